/**
 * The cross-origin embed, on two local origins: origin B serves the built widget folder
 * (`dist/widget/`) with the CORS headers a CDN needs; origin A serves the example portal
 * (`examples/`) with a strict Content-Security-Policy header, its widget script rewritten to B.
 * Used by the widget's browser tests and by `npm run example:widget`.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DIST } from './browser';
import { closeServer, CONTENT_TYPES, countBytesSent, ISOLATION_HEADERS, listen, originOf, pathOf, sendFile } from './static-files';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const WIDGET_DIST = resolve(DIST, 'widget');
const EXAMPLES = resolve(ROOT, 'examples');
/** The widget origin written in examples/portal.html (its script tag and its CSP). */
export const EXAMPLE_WIDGET_ORIGIN = 'http://127.0.0.1:4174';

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

/** A Vite chunk whose name carries its content hash (`assets/worker-BxW3a9_k.js`): it never changes. */
const HASHED = /^\/assets\/.+-[\w-]{8,}\.\w+$/;

/**
 * Every header origin B sends with a file of the widget folder (`npm run serve:widget` and the
 * example): CORS and CORP, `nosniff`, and caching. Hashed chunks are cached for a year; the rest
 * (the entry script, the runtime, the model files, whose names stay the same across releases) is
 * revalidated on every use with its ETag, so a new release is seen at once and costs a 304 otherwise.
 */
export function widgetHeaders(path: string): Record<string, string> {
  return {
    ...WIDGET_CORS_HEADERS,
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': HASHED.test(path) ? 'public, max-age=31536000, immutable' : 'public, no-cache',
  };
}

/** Serves a built widget folder as origin B; returns the server. */
export function serveWidgetFolder(options: { port?: number; host?: string; dir?: string; onRequest?: (path: string) => void } = {}) {
  const dir = options.dir ?? WIDGET_DIST;
  return listen(
    options.port ?? 0,
    (request, response) => {
      const path = pathOf(request);
      options.onRequest?.(path);
      const headers = widgetHeaders(path);
      if (request.method === 'OPTIONS') {
        // A preflight (a page that adds headers to its fetch): allowed, nothing sent.
        response.writeHead(204, {
          ...headers,
          'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
          'Access-Control-Allow-Headers': request.headers['access-control-request-headers'] ?? '*',
          'Access-Control-Max-Age': '86400',
        });
        response.end();
        return;
      }
      sendFile(request, response, dir, path.endsWith('/') ? `${path}index.html` : path, headers);
    },
    options.host,
  );
}

export interface EmbedServers {
  /**
   * The portal, origin A: `/portal.html`; `/two-widgets.html` with a second widget;
   * `/isolated-portal.html`, the portal cross-origin isolated (COOP/COEP), as a bank whose pages use
   * SharedArrayBuffer would serve it.
   */
  portalOrigin: string;
  /** The widget folder, origin B: `/banking-intent-widget.js`, `/models/custom/…`, `/ort/…`. */
  widgetOrigin: string;
  /** Paths requested from origin B, in order. */
  widgetRequests: string[];
  /** Bytes both servers have sent so far (see countBytesSent). */
  bytesSent(): number;
  close(): Promise<void>;
}

export async function serveEmbedExample(ports: { portal?: number; widget?: number } = {}): Promise<EmbedServers> {
  if (!existsSync(resolve(WIDGET_DIST, 'banking-intent-widget.js'))) {
    throw new Error(`No built widget in ${WIDGET_DIST}: run \`npm run build\` first.`);
  }
  const widgetRequests: string[] = [];
  const widget = await serveWidgetFolder({ port: ports.widget ?? 0, onRequest: (path) => widgetRequests.push(path) });
  const widgetOrigin = originOf(widget);

  const portal = await listen(ports.portal ?? 0, async (request, response) => {
    const path = pathOf(request);
    const isolation = path === '/isolated-portal.html' ? ISOLATION_HEADERS : {};
    const headers = { 'Content-Security-Policy': portalCsp(widgetOrigin), ...isolation };
    if (path === '/' || path === '/portal.html' || path === '/two-widgets.html' || path === '/isolated-portal.html') {
      let html = (await readFile(resolve(EXAMPLES, 'portal.html'), 'utf8')).replaceAll(EXAMPLE_WIDGET_ORIGIN, widgetOrigin);
      if (path === '/two-widgets.html') {
        html = html.replace(/<banking-intent-widget[\s\S]*?<\/banking-intent-widget>/, (element) => `${element}\n${element}`);
      }
      response.writeHead(200, { ...headers, 'Content-Type': CONTENT_TYPES['.html']! });
      response.end(html);
      return;
    }
    sendFile(request, response, EXAMPLES, path, headers);
  });

  return {
    portalOrigin: originOf(portal),
    widgetOrigin,
    widgetRequests,
    bytesSent: (() => {
      const counters = [widget, portal].map((server) => countBytesSent(server));
      return () => counters.reduce((sum, count) => sum + count(), 0);
    })(),
    close: async () => {
      await Promise.all([widget, portal].map(closeServer));
    },
  };
}
