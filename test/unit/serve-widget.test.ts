/**
 * `npm run serve:widget` as a bank's operator starts it: on a free port (--port, or PORT), over
 * real HTTP, every file of the widget folder comes with CORS, Cross-Origin-Resource-Policy, the
 * right Content-Type and caching headers; a second request is a 304; nothing outside the folder.
 * It serves a folder made here (--dir), so the test needs no build.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { brotliCompressSync } from 'node:zlib';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const TSX = join(ROOT, 'node_modules/.bin/tsx');
const folder = mkdtempSync(join(tmpdir(), 'serve-widget-'));
const started: ChildProcess[] = [];

/** A port nothing listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Starts the command and resolves with its origin once it says it is serving. */
function serve(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const child = spawn(TSX, ['scripts/serve-widget.ts', ...args], { cwd: ROOT, env: { ...process.env, ...env } });
  started.push(child);
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`serve:widget did not start: ${output}`)), 30_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const origin = /Serving .* on (http:\/\/127\.0\.0\.1:\d+)\//.exec(output)?.[1];
      if (origin) {
        clearTimeout(timer);
        resolve(origin);
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.once('exit', (code) => reject(new Error(`serve:widget exited with ${code}: ${output}`)));
  });
}

beforeAll(() => {
  mkdirSync(join(folder, 'assets'));
  mkdirSync(join(folder, 'ort'));
  mkdirSync(join(folder, 'models/custom'), { recursive: true });
  writeFileSync(join(folder, 'banking-intent-widget.js'), 'export {};\n');
  writeFileSync(join(folder, 'assets/custom.worker-BxW3a9_k.js'), 'self.onmessage = () => {};\n');
  writeFileSync(join(folder, 'ort/ort-wasm-simd-threaded.asyncify.mjs'), 'export default 1;\n');
  writeFileSync(join(folder, 'ort/ort-wasm-simd-threaded.asyncify.wasm'), new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
  writeFileSync(join(folder, 'models/custom/config.json'), '{"labels":[]}\n');
  writeFileSync(join(folder, 'models/custom/model.onnx'), new Uint8Array(1024));
});

afterAll(() => {
  for (const child of started) if (child.exitCode === null) child.kill('SIGTERM');
  rmSync(folder, { recursive: true, force: true });
});

describe('npm run serve:widget', () => {
  it('serves every file with CORS, CORP, its Content-Type and caching headers, on the port asked for', async () => {
    const port = await freePort();
    const origin = await serve(['--port', String(port), '--dir', folder]);
    expect(origin).toBe(`http://127.0.0.1:${port}`);

    const cases: [path: string, type: RegExp, cache: RegExp][] = [
      ['/banking-intent-widget.js', /^text\/javascript/, /no-cache/],
      ['/assets/custom.worker-BxW3a9_k.js', /^text\/javascript/, /max-age=31536000, immutable/],
      ['/ort/ort-wasm-simd-threaded.asyncify.mjs', /^text\/javascript/, /no-cache/],
      ['/ort/ort-wasm-simd-threaded.asyncify.wasm', /^application\/wasm$/, /no-cache/],
      ['/models/custom/config.json', /^application\/json/, /no-cache/],
      ['/models/custom/model.onnx', /^application\/octet-stream$/, /no-cache/],
    ];
    for (const [path, type, cache] of cases) {
      const response = await fetch(origin + path, { headers: { Origin: 'https://portal.bank.example' } });
      expect(response.status, path).toBe(200);
      expect(response.headers.get('access-control-allow-origin'), path).toBe('*');
      expect(response.headers.get('cross-origin-resource-policy'), path).toBe('cross-origin');
      expect(response.headers.get('content-type'), path).toMatch(type);
      expect(response.headers.get('cache-control'), path).toMatch(cache);
      expect(response.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(response.headers.get('etag'), path).toMatch(/^W\/"/);
      await response.arrayBuffer();
    }
    const model = await fetch(`${origin}/models/custom/model.onnx`);
    expect((await model.arrayBuffer()).byteLength).toBe(1024);
    expect(model.headers.get('content-length')).toBe('1024');

    // Revalidation: the ETag answers 304, with the CORS headers still on.
    const again = await fetch(`${origin}/models/custom/model.onnx`, { headers: { 'If-None-Match': model.headers.get('etag')! } });
    expect(again.status).toBe(304);
    expect(again.headers.get('access-control-allow-origin')).toBe('*');

    // A preflight is answered; a missing file or one outside the folder is a 404, with CORS so the page can read why.
    const preflight = await fetch(`${origin}/models/custom/config.json`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://portal.bank.example', 'Access-Control-Request-Method': 'GET' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('GET');
    for (const path of ['/nope.js', '/../package.json', '/%2e%2e/package.json']) {
      const missing = await fetch(origin + path);
      expect(missing.status, path).toBe(404);
      expect(missing.headers.get('access-control-allow-origin')).toBe('*');
    }
  });

  it('sends the precompressed copy the build wrote to a client that takes it, and the file itself otherwise', async () => {
    const wasm = new Uint8Array(4096).map((_, i) => i % 7);
    writeFileSync(join(folder, 'ort/ort-wasm-simd-threaded.wasm'), wasm);
    writeFileSync(join(folder, 'ort/ort-wasm-simd-threaded.wasm.br'), brotliCompressSync(wasm));
    const origin = await serve(['--port', String(await freePort()), '--dir', folder]);
    const compressed = await fetch(`${origin}/ort/ort-wasm-simd-threaded.wasm`, { headers: { 'Accept-Encoding': 'gzip, br' } });
    expect(compressed.headers.get('content-encoding')).toBe('br');
    expect(compressed.headers.get('content-type')).toBe('application/wasm');
    expect(compressed.headers.get('vary')).toMatch(/Accept-Encoding/);
    expect(compressed.headers.get('access-control-allow-origin')).toBe('*');
    expect(Number(compressed.headers.get('content-length'))).toBeLessThan(wasm.byteLength);
    expect(new Uint8Array(await compressed.arrayBuffer())).toEqual(wasm); // decoded by fetch
    const plain = await fetch(`${origin}/ort/ort-wasm-simd-threaded.wasm`, { headers: { 'Accept-Encoding': 'identity' } });
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect(plain.headers.get('content-length')).toBe(String(wasm.byteLength));
    expect(new Uint8Array(await plain.arrayBuffer())).toEqual(wasm);
    // Each form revalidates with its own ETag.
    expect(compressed.headers.get('etag')).not.toBe(plain.headers.get('etag'));
  });

  it('takes the port from PORT when --port is not given', async () => {
    const port = await freePort();
    const origin = await serve(['--dir', folder], { PORT: String(port) });
    expect(origin).toBe(`http://127.0.0.1:${port}`);
    expect((await fetch(`${origin}/banking-intent-widget.js`)).headers.get('access-control-allow-origin')).toBe('*');
  });
});
