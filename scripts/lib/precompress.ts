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
import { existsSync, statSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import type { OutgoingHttpHeaders } from 'node:http';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { Plugin } from 'vite';
import { ENCODINGS, precompressedCopy, sendFile } from './static-files';

const brotli = promisify(brotliCompress);
const gzipped = promisify(gzip);

/** Files worth compressing (images and fonts are compressed already). */
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.webmanifest', '.svg', '.wasm', '.onnx', '.md', '.txt', '.map']);
const MIN_BYTES = 1024;
/** Brotli's best quality only up to this size (see above). */
const MAX_BEST_BYTES = 4 * 1024 * 1024;
const CACHE_DIR = resolve('.cache/precompress');

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
        if (!file.startsWith(root + sep) || !precompressedCopy(request, file)) return next();
        // Vite's hashed chunks never change under their name; everything else is revalidated.
        const caching = path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
        // The headers configured for the server (COOP/COEP, for one) go on these answers too: a
        // worker script without them is refused by a cross-origin-isolated page.
        sendFile(request, response, root, path, { ...configuredHeaders(server.config.preview.headers), 'Cache-Control': caching });
      });
    },
  };
}

/** `preview.headers` as plain strings (Node's header values may be numbers or lists). */
function configuredHeaders(headers: OutgoingHttpHeaders | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).flatMap(([name, value]) => (value === undefined ? [] : [[name, String(value)]])));
}
