/**
 * The cross-origin embed, on two local origins: origin B serves the built widget folder
 * (`dist/widget/`) with the CORS headers a CDN needs; origin A serves the example portal
 * (`examples/`) with a strict Content-Security-Policy header, its widget script rewritten to B.
 * Used by the widget's browser tests and by `npm run example:widget`.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DIST } from './browser';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const WIDGET_DIST = resolve(DIST, 'widget');
const EXAMPLES = resolve(ROOT, 'examples');
/** The widget origin written in examples/portal.html (its script tag and its CSP). */
export const EXAMPLE_WIDGET_ORIGIN = 'http://127.0.0.1:4174';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
};

/** The portal's policy for a widget served from `widgetOrigin` (the same as the example's meta tag). */
export function portalCsp(widgetOrigin: string): string {
  return [
    "default-src 'self'",
    `script-src 'self' ${widgetOrigin} 'wasm-unsafe-eval'`,
    `worker-src blob: ${widgetOrigin}`,
    `connect-src 'self' ${widgetOrigin}`,
    "style-src 'self'",
    "img-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
  ].join('; ');
}

/** What origin B must send with every file of the widget folder. */
export const WIDGET_CORS_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Cross-Origin-Resource-Policy': 'cross-origin',
};

export interface EmbedServers {
  /** The portal, origin A: `/portal.html`, and `/two-widgets.html` with a second widget. */
  portalOrigin: string;
  /** The widget folder, origin B: `/banking-intent-widget.js`, `/models/custom/…`, `/ort/…`. */
  widgetOrigin: string;
  /** Paths requested from origin B, in order. */
  widgetRequests: string[];
  close(): Promise<void>;
}

export async function serveEmbedExample(ports: { portal?: number; widget?: number } = {}): Promise<EmbedServers> {
  if (!existsSync(resolve(WIDGET_DIST, 'banking-intent-widget.js'))) {
    throw new Error(`No built widget in ${WIDGET_DIST}: run \`npm run build\` first.`);
  }
  const widgetRequests: string[] = [];
  const widget = await listen(ports.widget ?? 0, async (request, response) => {
    const path = pathOf(request);
    widgetRequests.push(path);
    await sendFile(response, WIDGET_DIST, path, WIDGET_CORS_HEADERS);
  });
  const widgetOrigin = originOf(widget);

  const portal = await listen(ports.portal ?? 0, async (request, response) => {
    const path = pathOf(request);
    const headers = { 'Content-Security-Policy': portalCsp(widgetOrigin) };
    if (path === '/' || path === '/portal.html' || path === '/two-widgets.html') {
      let html = (await readFile(resolve(EXAMPLES, 'portal.html'), 'utf8')).replaceAll(EXAMPLE_WIDGET_ORIGIN, widgetOrigin);
      if (path === '/two-widgets.html') {
        html = html.replace(/<banking-intent-widget[\s\S]*?<\/banking-intent-widget>/, (element) => `${element}\n${element}`);
      }
      response.writeHead(200, { ...headers, 'Content-Type': TYPES['.html']! });
      response.end(html);
      return;
    }
    await sendFile(response, EXAMPLES, path, headers);
  });

  return {
    portalOrigin: originOf(portal),
    widgetOrigin,
    widgetRequests,
    close: async () => {
      await Promise.all([widget, portal].map((server) => new Promise<void>((done) => server.close(() => done()))));
    },
  };
}

function pathOf(request: IncomingMessage): string {
  return decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
}

async function sendFile(response: ServerResponse, folder: string, path: string, headers: Record<string, string>): Promise<void> {
  const file = resolve(folder, `.${path}`);
  if (!file.startsWith(folder + sep) || !existsSync(file)) {
    response.writeHead(404, { ...headers, 'Content-Type': 'text/plain' });
    response.end('Not found');
    return;
  }
  const body = await readFile(file);
  response.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' });
  response.end(body);
}

function listen(port: number, handle: (request: IncomingMessage, response: ServerResponse) => Promise<void>): Promise<Server> {
  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      response.writeHead(500, { 'Content-Type': 'text/plain' });
      response.end(String(error));
    });
  });
  return new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => done(server));
  });
}

function originOf(server: Server): string {
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('The server has no TCP address.');
  return `http://127.0.0.1:${address.port}`;
}
