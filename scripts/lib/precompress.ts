/**
 * Precompressed copies of the built files, and a preview server that sends them.
 *
 * `precompress()` is a Vite plugin: after a build it writes `FILE.br` (Brotli) and `FILE.gz` (gzip,
 * level 9) next to every compressible file over 1 KiB (scripts, styles, JSON, the WebAssembly
 * runtime, the ONNX model), keeping a copy only when it is smaller. Brotli runs at quality 11 up to
 * 4 MB and at 9 above: quality 11 takes 85 s for the 14 MB runtime here (2.36 MB) where 9 takes
 * 10 s (2.70 MB), and a fresh CI machine builds once per run. Each result is kept in
 * `.cache/precompress/` under the hash of its input, so a file is compressed once per machine.
 *
 * Its `configurePreviewServer` hook makes `vite preview` (`npm start`, `npm run preview`, the
 * browser tests) answer a request whose `Accept-Encoding` allows it with the `.br` (or `.gz`) copy:
 * `Content-Encoding`, the original `Content-Type`, `Vary: Accept-Encoding`, an ETag of its own.
 * Any server can do the same (nginx `brotli_static`/`gzip_static`, Caddy `precompressed`): see
 * the README's hosting notes.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { Plugin } from 'vite';

const brotli = promisify(brotliCompress);
const gzipped = promisify(gzip);

/** Files worth compressing (images and fonts are compressed already). */
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.webmanifest', '.svg', '.wasm', '.onnx', '.md', '.txt', '.map']);
const MIN_BYTES = 1024;
/** Brotli's best quality only up to this size (see above). */
const MAX_BEST_BYTES = 4 * 1024 * 1024;
const CACHE_DIR = resolve('.cache/precompress');

export const ENCODINGS = [
  { name: 'br', suffix: '.br' },
  { name: 'gzip', suffix: '.gz' },
] as const;

/** Content types by extension, for the original file a compressed copy stands for. */
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.svg': 'image/svg+xml',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.md': 'text/markdown; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

async function* walk(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.isFile()) yield path;
  }
}

/** `data` compressed with `encoding`, from the cache when this input was compressed before. */
async function compressed(data: Buffer, encoding: (typeof ENCODINGS)[number]['name']): Promise<Buffer> {
  const key = createHash('sha256').update(data).digest('hex');
  const cached = join(CACHE_DIR, `${key}.${encoding}${encoding === 'br' && data.length > MAX_BEST_BYTES ? '9' : ''}`);
  if (existsSync(cached)) return readFile(cached);
  const out =
    encoding === 'br'
      ? await brotli(data, {
          params: {
            [constants.BROTLI_PARAM_QUALITY]: data.length <= MAX_BEST_BYTES ? 11 : 9,
            [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
          },
        })
      : await gzipped(data, { level: 9 });
  await mkdir(CACHE_DIR, { recursive: true });
  await writeFile(cached, out);
  return out;
}

/** Writes the compressed copies for every file under `dir`; returns bytes before and after (Brotli). */
export async function precompressFolder(dir: string): Promise<{ files: number; bytes: number; brotliBytes: number }> {
  let files = 0;
  let bytes = 0;
  let brotliBytes = 0;
  for await (const path of walk(dir)) {
    if (!COMPRESSIBLE.has(extname(path)) || statSync(path).size < MIN_BYTES) continue;
    const data = await readFile(path);
    files++;
    bytes += data.length;
    for (const { name, suffix } of ENCODINGS) {
      const out = await compressed(data, name);
      // A copy that saves nothing would only cost a lookup.
      if (out.length < data.length) await writeFile(path + suffix, out);
      if (name === 'br') brotliBytes += Math.min(out.length, data.length);
    }
  }
  return { files, bytes, brotliBytes };
}

/** The Vite plugin: precompress after the build, serve the copies from `vite preview`. */
export function precompress(): Plugin {
  let outDir = 'dist';
  return {
    name: 'banking-intent:precompress',
    // The build writes the copies, `vite preview` sends them; the dev server has none.
    apply: (_config, env) => env.command === 'build' || env.isPreview === true,
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    async closeBundle() {
      const started = performance.now();
      const { files, bytes, brotliBytes } = await precompressFolder(outDir);
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      console.log(
        `precompressed ${files} files in ${seconds} s: ${(bytes / 1e6).toFixed(1)} MB → ${(brotliBytes / 1e6).toFixed(1)} MB with Brotli`,
      );
    },
    configurePreviewServer(server) {
      const root = resolve(server.config.root, server.config.build.outDir);
      server.middlewares.use((request, response, next) => {
        if (request.method !== 'GET' && request.method !== 'HEAD') return next();
        const path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
        const file = resolve(root, `.${path}`);
        const type = TYPES[extname(file)];
        if (!type || !file.startsWith(root + sep)) return next();
        const accepted = String(request.headers['accept-encoding'] ?? '');
        const encoding = ENCODINGS.find(({ name, suffix }) => new RegExp(`\\b${name}\\b`).test(accepted) && existsSync(file + suffix));
        if (!encoding) return next();
        const stats = statSync(file + encoding.suffix);
        const etag = `W/"${encoding.name}-${stats.size.toString(16)}-${Math.floor(stats.mtimeMs).toString(16)}"`;
        // Vite's hashed chunks never change under their name; everything else is revalidated.
        const caching = path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
        const headers = {
          'Content-Type': type,
          'Content-Encoding': encoding.name,
          Vary: 'Accept-Encoding',
          ETag: etag,
          'Cache-Control': caching,
        };
        if (request.headers['if-none-match'] === etag) {
          response.writeHead(304, headers);
          response.end();
          return;
        }
        response.writeHead(200, { ...headers, 'Content-Length': String(stats.size) });
        if (request.method === 'HEAD') response.end();
        else createReadStream(file + encoding.suffix).pipe(response);
      });
    },
  };
}
