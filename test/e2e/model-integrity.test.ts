/**
 * Issue 13, "a corrupt model stays": once the service worker had cached a broken model.onnx, that
 * browser stayed broken after the file was fixed. Here, in one browser profile, against a copy of
 * the built site served from a folder this test changes between loads (its service worker is not
 * rebuilt, so no update helps):
 *
 * 1. a bad release, weights that compute NaN with a manifest written for them: the page names
 *    model.onnx and its non-finite scores (no "NaN%"), and the service worker has cached it;
 * 2. the fix on the server: the next load replaces the cached copy and classifies;
 * 3. model.onnx corrupted in place (the cached copy and the server's), its manifest unchanged:
 *    the page says model.onnx does not match its manifest, and no broken copy is kept;
 * 4. the fix again: the next load classifies, and so does a load offline after it.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, resolve, sep } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { writeModelManifest } from '../../src/engine/model-manifest-node';
import { DIST } from '../../scripts/lib/browser';
import { withNaNWeights } from '../support/altered-model';
import { CARD_MESSAGE, classify, collectConsole, launchChromium, newContext } from './harness';

const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.svg': 'image/svg+xml',
  '.wasm': 'application/wasm',
};

let root: string;
let server: Server;
let origin: string;
let browser: Browser;

/** Serves `root` as it is at each request (read afresh, `no-cache`), so the test can change files between loads. */
function serve(dir: string): Promise<Server> {
  const http = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    const file = resolve(dir, '.' + (path.endsWith('/') ? path + 'index.html' : path));
    if (!file.startsWith(dir + sep) || !existsSync(file) || !statSync(file).isFile()) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const body = readFileSync(file);
    response.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': body.byteLength,
      'cache-control': 'no-cache',
    });
    response.end(body);
  });
  return new Promise((done) => http.listen(0, '127.0.0.1', () => done(http)));
}

beforeAll(async () => {
  if (!existsSync(join(DIST, 'index.html'))) throw new Error(`No built site in ${DIST}: run \`npm run build\` first.`);
  root = mkdtempSync(join(tmpdir(), 'site-integrity-'));
  // The site without the widget's copy (another origin's download, not this site's).
  cpSync(DIST, root, { recursive: true, filter: (path) => !path.startsWith(join(DIST, 'widget')) });
  server = await serve(root);
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchChromium({ webgpu: false });
});

afterAll(async () => {
  await browser?.close();
  server?.closeAllConnections();
  await new Promise((done) => server?.close(done));
  if (root) rmSync(root, { recursive: true, force: true });
});

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** SHA-256 of the service worker's cached model.onnx, or null when it keeps none. */
function cachedModelSha(page: Page): Promise<string | null> {
  return page.evaluate(async () => {
    const cached = await (await caches.open('model-files')).match(new URL('/models/custom/onnx/model.onnx', location.href).href);
    if (!cached) return null;
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await cached.arrayBuffer()));
    return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
  });
}

test('a corrupt cached model.onnx is replaced after the fix on the next load in the same profile; altered weights give a clear error', async () => {
  const modelPath = join(root, 'models/custom/onnx/model.onnx');
  const manifestPath = join(root, 'models/custom/manifest.json');
  const good = readFileSync(modelPath);
  const goodManifest = readFileSync(manifestPath);
  const nan = withNaNWeights(good);

  // 1. A bad release: weights that compute NaN, with a manifest that matches them.
  writeFileSync(modelPath, nan);
  writeModelManifest(join(root, 'models/custom'));
  const context = await newContext(browser);
  const page = await context.newPage();
  const logs = collectConsole(page);
  await page.goto(origin + '/?device=wasm');
  const error = page.locator('#error');
  await expect.poll(() => error.textContent(), { timeout: 60_000 }).toContain('model.onnx produced non-finite scores (NaN)');
  expect(await page.locator('body').textContent()).not.toContain('NaN%');
  // The service worker (registered once the load has failed) kept that model: it matched its manifest.
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  expect(await cachedModelSha(page), logs.join('\n')).toBe(sha256(nan));

  // 2. The fix, on the server only. The next load replaces the cached copy and answers.
  writeFileSync(modelPath, good);
  writeFileSync(manifestPath, goodManifest);
  await page.reload();
  expect(await page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
  expect((await classify(page, CARD_MESSAGE, 60_000)).intent, logs.join('\n')).toBe('card_arrival');
  expect(await cachedModelSha(page)).toBe(sha256(good));

  // 3. Corrupted in place, the cached copy and the server's, with the manifest unchanged.
  const flipped = Buffer.from(good);
  flipped[flipped.length >> 1]! ^= 0xff;
  writeFileSync(modelPath, flipped);
  await page.evaluate(async (length) => {
    const cache = await caches.open('model-files');
    await cache.put(new URL('/models/custom/onnx/model.onnx', location.href).href, new Response(new Uint8Array(length)));
  }, good.byteLength);
  await page.reload();
  await expect
    .poll(() => error.textContent(), { timeout: 60_000 })
    .toMatch(/model\.onnx does not match its manifest \(sha256 [0-9a-f]{12}…/);
  expect(await cachedModelSha(page)).toBeNull();

  // 4. Fixed again: the next load answers, and keeps the good copy for offline use.
  writeFileSync(modelPath, good);
  await page.reload();
  expect((await classify(page, CARD_MESSAGE, 60_000)).intent, logs.join('\n')).toBe('card_arrival');
  expect(await cachedModelSha(page)).toBe(sha256(good));
  await context.setOffline(true);
  await page.reload();
  expect((await classify(page, CARD_MESSAGE, 60_000)).intent, logs.join('\n')).toBe('card_arrival');
  await context.close();
});
