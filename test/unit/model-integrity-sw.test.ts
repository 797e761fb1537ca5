/**
 * The service worker's model files (src/sw/model-files.ts) against a fake server and Cache Storage:
 * a cached copy is served only while it matches its folder's manifest.json; a broken one is
 * replaced on the next request once the server has a good one; a broken download is never kept;
 * offline, the copies that match the last manifest answer. test/e2e/model-integrity.test.ts
 * shows the same in Chromium.
 */
import { createHash } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { serializeModelManifest, type ModelManifest } from '../../src/engine/model-manifest';
import { MODEL_CACHE, ModelFiles, modelFolders } from '../../src/sw/model-files';

const SITE = 'https://bank.example/';
const FOLDER = `${SITE}models/custom/`;
const GOOD = { 'config.json': bytes('{"a":1}'), 'model.onnx': bytes('good weights'), 'tokenizer.json': bytes('{"vocab":[]}') };
const URLS = [...Object.keys(GOOD), 'manifest.json'].map((file) => FOLDER + file).concat(`${SITE}index.html`);

function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function manifestOf(files: Record<string, Uint8Array>): Uint8Array {
  const manifest: ModelManifest = { version: 1, files: {} };
  for (const [file, data] of Object.entries(files)) {
    manifest.files[file] = { sha256: createHash('sha256').update(data).digest('hex'), bytes: data.byteLength };
  }
  return bytes(serializeModelManifest(manifest));
}

/** The site's files, by path under the folder; `offline` makes every request fail. */
class Server {
  files = new Map<string, Uint8Array>();
  offline = false;
  requests: { file: string; cache?: RequestCache }[] = [];

  publish(files: Record<string, Uint8Array>, manifest = manifestOf(files)): void {
    this.files = new Map(Object.entries(files));
    this.files.set('manifest.json', manifest);
  }

  fetch = async (input: string, init?: RequestInit): Promise<Response> => {
    const file = input.slice(FOLDER.length);
    this.requests.push({ file, cache: init?.cache });
    if (this.offline) throw new TypeError('Failed to fetch');
    const body = this.files.get(file);
    return body ? new Response(body as Uint8Array<ArrayBuffer>) : new Response('not found', { status: 404 });
  };
}

/** Cache Storage in memory: one cache is enough here. */
class FakeCache {
  readonly entries = new Map<string, Uint8Array>();
  async match(request: RequestInfo): Promise<Response | undefined> {
    const body = this.entries.get(typeof request === 'string' ? request : request.url);
    return body ? new Response(body as Uint8Array<ArrayBuffer>) : undefined;
  }
  async put(request: RequestInfo, response: Response): Promise<void> {
    this.entries.set(typeof request === 'string' ? request : request.url, new Uint8Array(await response.arrayBuffer()));
  }
  async delete(request: RequestInfo): Promise<boolean> {
    return this.entries.delete(typeof request === 'string' ? request : request.url);
  }
  async keys(): Promise<Request[]> {
    return [...this.entries.keys()].map((url) => new Request(url));
  }
}

let server: Server;
let cache: FakeCache;
let logs: string[];
const make = (freshMs?: number, installFolders?: string[]) =>
  new ModelFiles({
    urls: URLS,
    freshMs,
    installFolders,
    fetch: server.fetch,
    caches: { open: async (name: string) => (name === MODEL_CACHE ? cache : new FakeCache()) as unknown as Cache },
    log: (line) => logs.push(line),
  });
const get = async (files: ModelFiles, file: string) => {
  const response = await files.respond(new Request(FOLDER + file));
  return new TextDecoder().decode(await response.arrayBuffer());
};
const cached = (file: string) => {
  const body = cache.entries.get(FOLDER + file);
  return body && new TextDecoder().decode(body);
};

beforeEach(() => {
  server = new Server();
  server.publish(GOOD);
  cache = new FakeCache();
  logs = [];
});

describe('service worker model files', () => {
  it('knows the folders by their manifest.json, and only their files', () => {
    const files = make();
    expect(modelFolders(URLS)).toEqual([FOLDER]);
    expect(files.handles(new Request(FOLDER + 'model.onnx'))).toBe(true);
    expect(files.handles(new Request(FOLDER + 'model.onnx?v=2'))).toBe(true);
    expect(files.handles(new Request(`${SITE}index.html`))).toBe(false);
    expect(files.handles(new Request(FOLDER + 'model.onnx', { method: 'POST', body: 'x' }))).toBe(false);
    expect(files.cachedUrls.sort()).toEqual(URLS.filter((url) => url.startsWith(FOLDER)).sort());
  });

  it('install keeps every file that matches, and serves them from the cache', async () => {
    const files = make(0);
    await files.install();
    expect(cached('model.onnx')).toBe('good weights');
    expect(cached('manifest.json')).toBeDefined();
    server.requests = [];
    expect(await get(files, 'model.onnx')).toBe('good weights');
    // Only the manifest went to the network (every time here: freshMs 0).
    expect(server.requests).toEqual([{ file: 'manifest.json', cache: 'reload' }]);
  });

  it('a broken cached copy is deleted, fetched again past the HTTP cache, and the good one kept', async () => {
    const files = make();
    await files.install();
    cache.entries.set(FOLDER + 'model.onnx', bytes('broken weights'));
    server.requests = [];
    expect(await get(files, 'model.onnx')).toBe('good weights');
    expect(server.requests).toContainEqual({ file: 'model.onnx', cache: 'reload' });
    expect(cached('model.onnx')).toBe('good weights');
    expect(logs.join('\n')).toMatch(/model\.onnx: the cached copy does not match manifest\.json/);
  });

  it('a model that was broken on the server when cached (with a manifest to match) is replaced once both are fixed', async () => {
    const broken = { ...GOOD, 'model.onnx': bytes('NaN weights') };
    server.publish(broken);
    const files = make();
    await files.install();
    expect(cached('model.onnx')).toBe('NaN weights');
    expect(await get(files, 'model.onnx')).toBe('NaN weights');

    server.publish(GOOD);
    // The next load: its engine asks for the manifest first, then the files.
    await get(files, 'manifest.json');
    expect(await get(files, 'model.onnx')).toBe('good weights');
    expect(cached('model.onnx')).toBe('good weights');
  });

  it("a server's copy that does not match is handed over (the engine names it) but never kept", async () => {
    server.publish({ ...GOOD, 'model.onnx': bytes('garbled') }, manifestOf(GOOD));
    const files = make();
    await files.install();
    expect(cached('model.onnx')).toBeUndefined();
    expect(cached('config.json')).toBe('{"a":1}');
    expect(await get(files, 'model.onnx')).toBe('garbled');
    expect(cached('model.onnx')).toBeUndefined();

    server.publish(GOOD);
    await get(files, 'manifest.json');
    expect(await get(files, 'model.onnx')).toBe('good weights');
    expect(cached('model.onnx')).toBe('good weights');
  });

  it('offline: the last manifest and the copies that match it answer; a broken copy is not served', async () => {
    const files = make();
    await files.install();
    server.offline = true;
    expect(await get(files, 'manifest.json')).toContain('"model.onnx"');
    expect(await get(files, 'model.onnx')).toBe('good weights');
    cache.entries.set(FOLDER + 'tokenizer.json', bytes('broken'));
    await expect(files.respond(new Request(FOLDER + 'tokenizer.json'))).rejects.toThrow(/Failed to fetch/);
    expect(cached('tokenizer.json')).toBeUndefined();
  });

  it('a manifest that answers 404 is forgotten; a corrupt one falls back to the last good one', async () => {
    const files = make();
    await files.install();
    server.files.set('manifest.json', bytes('<!doctype html>'));
    expect(await get(files, 'manifest.json')).toContain('"model.onnx"');
    server.files.delete('manifest.json');
    expect((await files.respond(new Request(FOLDER + 'manifest.json'))).status).toBe(404);
    expect(cached('manifest.json')).toBeUndefined();
  });

  it('install takes files from the HTTP cache first, and goes past it only for a copy that does not match', async () => {
    await make().install();
    expect(server.requests.filter((r) => r.file === 'model.onnx')).toEqual([{ file: 'model.onnx', cache: undefined }]);
    cache.entries.clear();
    server.requests = [];
    server.publish({ ...GOOD, 'model.onnx': bytes('NaN weights') }, manifestOf(GOOD));
    await make().install();
    expect(server.requests.filter((r) => r.file === 'model.onnx')).toEqual([
      { file: 'model.onnx', cache: undefined },
      { file: 'model.onnx', cache: 'reload' },
    ]);
    expect(cached('model.onnx')).toBeUndefined();
  });

  it('a folder left out of installFolders is cached only when the page asks to keep it', async () => {
    const files = make(undefined, []);
    await files.install();
    expect(cache.entries.size).toBe(0);
    await files.keep(FOLDER);
    expect(cached('model.onnx')).toBe('good weights');
    await expect(files.keep(`${SITE}models/elsewhere/`)).rejects.toThrow(/not a model folder of this site/);
  });

  it('install fails when the network does (so the previous worker stays), and activate drops files no build lists', async () => {
    server.offline = true;
    await expect(make().install()).rejects.toThrow(/manifest\.json could not be fetched/);
    server.offline = false;
    cache.entries.set(FOLDER + 'old-model.onnx', bytes('old'));
    const files = make();
    await files.install();
    await files.activate();
    expect([...cache.entries.keys()].sort()).toEqual(URLS.filter((url) => url.startsWith(FOLDER)).sort());
  });
});
