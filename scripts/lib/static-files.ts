/**
 * A small static file server for the local servers the commands and tests start (the widget
 * folder, the example portal, a model folder mounted into the site): content types, `ETag` and
 * `Last-Modified` with `304 Not Modified`, `HEAD`, and nothing outside the folder.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { extname, resolve, sep } from 'node:path';

/**
 * Cross-origin isolation, so that onnxruntime-web can run its WebAssembly kernels on several threads
 * (they need SharedArrayBuffer): 0.69-0.75x the median query time on this project's 2-core machines
 * (`npm run bench:threads`; README, "Speed in the browser"). Everything the site loads is its own origin's; remote models are
 * CORS requests, which `require-corp` allows. Sent by `npm start`/`npm run dev` (vite.config.ts)
 * and by the example portal's `/isolated-portal.html`.
 */
export const ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/** The compressed copies the build writes next to a file (scripts/lib/precompress.ts), best first. */
export const ENCODINGS = [
  { name: 'br', suffix: '.br' },
  { name: 'gzip', suffix: '.gz' },
] as const;

/** What each file is served as. `.onnx` has no registered type: bytes. */
export const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
};

export function contentType(file: string): string {
  return CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** The request's path, decoded, without the query. */
export function pathOf(request: IncomingMessage): string {
  return decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
}

/**
 * Answers with the file at `path` (URL path, `/`-rooted) inside `folder`, with `headers` added
 * (they may depend on the path). 404 for anything missing or outside the folder, 405 for methods
 * other than GET and HEAD, 304 when the client's `If-None-Match` or `If-Modified-Since` still holds.
 * Where the build wrote a `.br` or `.gz` copy (scripts/lib/precompress.ts) and the request's
 * `Accept-Encoding` takes it, that copy is sent, with `Content-Encoding` and its own ETag.
 */
export function sendFile(
  request: IncomingMessage,
  response: ServerResponse,
  folder: string,
  path: string,
  headers: Record<string, string> = {},
): void {
  const root = resolve(folder);
  const original = resolve(root, `.${path}`);
  const inside = original.startsWith(root + sep);
  const encoding = inside ? precompressedCopy(request, original) : undefined;
  const file = encoding ? original + encoding.suffix : original;
  if (encoding) headers = { ...headers, 'Content-Encoding': encoding.name, Vary: 'Accept-Encoding' };
  const stats = inside && existsSync(file) ? statSync(file) : undefined;
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { ...headers, Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
    response.end('Method not allowed');
    return;
  }
  if (!stats?.isFile()) {
    response.writeHead(404, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
    response.end('Not found');
    return;
  }
  const etag = `W/"${encoding ? `${encoding.name}-` : ''}${stats.size.toString(16)}-${Math.floor(stats.mtimeMs).toString(16)}"`;
  const lastModified = stats.mtime.toUTCString();
  const validators = { ETag: etag, 'Last-Modified': lastModified };
  const since = request.headers['if-modified-since'];
  const fresh =
    request.headers['if-none-match'] !== undefined
      ? request.headers['if-none-match'].split(',').some((tag) => tag.trim() === etag || tag.trim() === '*')
      : since !== undefined && Date.parse(since) >= Math.floor(stats.mtimeMs / 1000) * 1000;
  if (fresh) {
    response.writeHead(304, { ...headers, ...validators });
    response.end();
    return;
  }
  response.writeHead(200, { ...headers, ...validators, 'Content-Type': contentType(original), 'Content-Length': String(stats.size) });
  if (request.method === 'HEAD') {
    response.end();
    return;
  }
  createReadStream(file).pipe(response);
}

/** The compressed copy of `file` to send for this request, if the build wrote one the client takes. */
export function precompressedCopy(request: IncomingMessage, file: string): (typeof ENCODINGS)[number] | undefined {
  const accepted = String(request.headers['accept-encoding'] ?? '');
  return ENCODINGS.find(({ name, suffix }) => new RegExp(`\\b${name}\\b`).test(accepted) && existsSync(file + suffix));
}

/** An HTTP server on `host:port` (0: any free port); a failing handler answers 500. */
export function listen(
  port: number,
  handle: (request: IncomingMessage, response: ServerResponse) => void | Promise<void>,
  host = '127.0.0.1',
): Promise<Server> {
  const server = createServer((request, response) => {
    Promise.resolve()
      .then(() => handle(request, response))
      .catch((error: unknown) => {
        if (!response.headersSent) response.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
        response.end(String(error));
      });
  });
  return new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => done(server));
  });
}

/**
 * What a server sends from now on, in bytes on the wire (headers and bodies, after compression):
 * the sockets it has closed plus those still open. For measuring transfers from the server's side,
 * where the browser's own accounting cannot tell a cache hit from a download.
 */
export function countBytesSent(server: { on(event: 'connection', listener: (socket: Socket) => void): unknown }): () => number {
  const open = new Set<Socket>();
  let closed = 0;
  server.on('connection', (socket) => {
    open.add(socket);
    socket.once('close', () => {
      open.delete(socket);
      closed += socket.bytesWritten;
    });
  });
  return () => closed + [...open].reduce((sum, socket) => sum + socket.bytesWritten, 0);
}

/** `http://127.0.0.1:PORT` of a listening server. */
export function originOf(server: Server): string {
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('The server has no TCP address.');
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((done) => {
    server.close(() => done());
    server.closeAllConnections();
  });
}
