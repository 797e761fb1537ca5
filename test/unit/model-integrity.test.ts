/**
 * Model integrity (issue 13): every model file is checked against its folder's manifest.json before
 * a session is created, and a model whose weights compute NaN fails with a clear error instead of
 * answering "NaN%". On the real shipped model, through the Node engine, the browser's worker host
 * (onnxruntime-web, files over a fetch) and `npm run models:manifest`.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { InferenceSession } from 'onnxruntime-common';
import * as ortWeb from 'onnxruntime-web/webgpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeCustomAdapter } from '../../src/adapters/custom-node';
import { ModelFileError } from '../../src/core/errors';
import { MODEL_MANIFEST_FILE, parseModelManifest, sha256Hex, sha256ForTests } from '../../src/engine/model-manifest';
import { checkModelManifest, listModelFiles, writeModelManifest } from '../../src/engine/model-manifest-node';
import { DEFAULT_MODEL_DIR, loadNodeEngine } from '../../src/engine/custom-node-engine';
import { createWorkerHost, singleBuild, type WebOrtModule } from '../../src/engine/custom-worker-host';
import { withNaNWeights } from '../support/altered-model';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ORT_BASE = pathToFileURL(join(ROOT, 'node_modules/onnxruntime-web/dist/')).href;
/** The shipped graph, where transformers.js looks for it too. */
const MODEL = 'onnx/model.onnx';

let scratch: string;
const shipped = (file: string) => readFileSync(join(DEFAULT_MODEL_DIR, file));
/** A copy of the shipped folder, manifest included, with `edit` applied. */
const copy = (edit: (dir: string) => void = () => undefined) => {
  const dir = mkdtempSync(join(scratch, 'model-'));
  cpSync(DEFAULT_MODEL_DIR, dir, { recursive: true });
  edit(dir);
  return dir;
};
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'integrity-'));
});
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

describe('manifest.json', () => {
  it('hashes like node:crypto, with crypto.subtle and with the plain-JS fallback', async () => {
    for (const size of [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000, 70_001]) {
      const bytes = new Uint8Array(randomBytes(size));
      const expected = createHash('sha256').update(bytes).digest('hex');
      expect(await sha256Hex(bytes)).toBe(expected);
      expect(Buffer.from(sha256ForTests(bytes)).toString('hex')).toBe(expected);
    }
  });

  it('the shipped folders have one that matches their files, covering what the runtimes load', () => {
    expect(checkModelManifest('public/models/custom')).toEqual([]);
    expect(checkModelManifest('public/models/llama-qlora')).toEqual([]);
    // Ours and transformers.js's: config.json, the graph where transformers.js looks, both tokenizer files, the spelling list.
    expect(listModelFiles('public/models/custom')).toEqual([
      'config.json',
      'onnx/model.onnx',
      'spelling.json',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    expect(listModelFiles('public/models/llama-qlora')).toEqual(
      expect.arrayContaining(['classifier.json', 'config.json', 'onnx/model_q4.onnx', 'tokenizer.json', 'tokenizer_config.json']),
    );
    const manifest = parseModelManifest(readFileSync('public/models/custom/manifest.json'));
    expect(manifest.files[MODEL]).toEqual({
      sha256: createHash('sha256').update(shipped(MODEL)).digest('hex'),
      bytes: shipped(MODEL).byteLength,
    });
  });

  it('a corrupt manifest is a ModelFileError naming manifest.json', () => {
    for (const text of ['{', '[]', '{"version": 2, "files": {}}', '{"version": 1, "files": {"a": {"sha256": "xyz", "bytes": 1}}}']) {
      expect(() => parseModelManifest(text)).toThrow(ModelFileError);
      expect(() => parseModelManifest(text)).toThrow(/^Model file manifest\.json is corrupt/);
    }
  });

  it('npm run models:manifest -- --check exits 1 naming the changed file; writing a new manifest makes it pass', async () => {
    const dir = copy((d) => writeFileSync(join(d, 'tokenizer.json'), '{}'));
    const run = (...args: string[]) =>
      promisify(execFile)(process.execPath, [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'scripts/model-manifest.ts', ...args], {
        cwd: ROOT,
      });
    const failed = (await run('--check', dir).catch((e: unknown) => e)) as { code: number; stdout: string };
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain(`${dir}: tokenizer.json: 2 bytes, the manifest says`);
    await run(dir);
    expect((await run('--check', dir)).stdout).toContain(`${dir}: ok`);
  });
});

describe('the Node engine checks each file before creating a session', () => {
  it('weights changed after the manifest was written: the load fails naming model.onnx', async () => {
    const dir = copy((d) => writeFileSync(join(d, MODEL), withNaNWeights(shipped(MODEL))));
    const error = await failure(loadNodeEngine(dir));
    expect(error).toBeInstanceOf(ModelFileError);
    expect(error).toMatchObject({ file: MODEL });
    expect((error as Error).message).toMatch(/^onnx\/model\.onnx does not match its manifest \(.+\): the file is corrupt or was changed/);
  });

  it('one flipped byte, same size: named with its hash', async () => {
    const dir = copy((d) => {
      const bytes = shipped(MODEL);
      bytes[bytes.length >> 1]! ^= 1;
      writeFileSync(join(d, MODEL), bytes);
    });
    const error = await failure(loadNodeEngine(dir));
    expect(error).toMatchObject({ file: MODEL });
    expect((error as Error).message).toMatch(
      /^onnx\/model\.onnx does not match its manifest \(sha256 [0-9a-f]{12}…, expected [0-9a-f]{12}…\)/,
    );
  });

  it('names tokenizer.json, spelling.json and config.json too', async () => {
    const tokenizer = copy((d) =>
      writeFileSync(join(d, 'tokenizer.json'), shipped('tokenizer.json').toString().replace('"card"', '"cord"')),
    );
    expect(await failure(loadNodeEngine(tokenizer))).toMatchObject({ file: 'tokenizer.json' });
    const spelling = copy((d) => writeFileSync(join(d, 'spelling.json'), shipped('spelling.json').toString().replace('"card"', '"cord"')));
    expect(await failure(loadNodeEngine(spelling))).toMatchObject({ file: 'spelling.json' });
    const config = copy((d) =>
      writeFileSync(join(d, 'config.json'), shipped('config.json').toString().replace('"maxTokens"', ' "maxTokens"')),
    );
    expect(await failure(loadNodeEngine(config))).toMatchObject({ file: 'config.json' });
  });

  it('a file the manifest does not list is refused by name', async () => {
    const dir = copy((d) => {
      const manifest = parseModelManifest(readFileSync(join(d, MODEL_MANIFEST_FILE)));
      delete manifest.files[MODEL];
      writeFileSync(join(d, MODEL_MANIFEST_FILE), JSON.stringify(manifest));
    });
    const error = await failure(loadNodeEngine(dir));
    expect(error).toMatchObject({ file: MODEL });
    expect((error as Error).message).toMatch(/^onnx\/model\.onnx is not listed in manifest\.json/);
  });

  it('a folder without manifest.json is refused, unless the caller opts out', async () => {
    const dir = copy((d) => rmSync(join(d, MODEL_MANIFEST_FILE)));
    const error = await failure(loadNodeEngine(dir));
    expect(error).toBeInstanceOf(ModelFileError);
    expect(error).toMatchObject({ file: 'manifest.json' });
    expect((error as Error).message).toMatch(/^Model file manifest\.json is missing in .*: without it the model files cannot be checked/);
    const unchecked = await loadNodeEngine(dir, { requireManifest: false });
    expect((await unchecked.classify('where is my card')).confidence).toBeGreaterThan(0);
    await unchecked.dispose();
  });
});

describe('weights that compute NaN', () => {
  it('with a manifest written for them, load, then every answer fails with a clear error instead of NaN', async () => {
    const dir = copy((d) => {
      writeFileSync(join(d, MODEL), withNaNWeights(shipped(MODEL)));
      writeModelManifest(d);
    });
    const adapter = new NodeCustomAdapter(dir);
    await adapter.load();
    for (const text of ['I still have not received my new card', 'hello']) {
      const error = await failure(adapter.classify(text));
      expect(error).toBeInstanceOf(ModelFileError);
      expect(error).toMatchObject({ file: MODEL });
      expect((error as Error).message).toBe(
        `${MODEL} produced non-finite scores (NaN): its weights are corrupt or were changed. Reload, or rebuild the model.`,
      );
    }
    await adapter.dispose();
  });

  it('with the original manifest, the load fails first, on the hash', async () => {
    const dir = copy((d) => writeFileSync(join(d, MODEL), withNaNWeights(shipped(MODEL))));
    const error = await failure(new NodeCustomAdapter(dir).load());
    expect((error as Error).message).toMatch(/^onnx\/model\.onnx does not match its manifest/);
  });
});

describe("the browser's worker host (onnxruntime-web, files over fetch)", () => {
  /** The host over a fetch that serves `files`; counts the sessions it tries to create. */
  const host = (files: Record<string, Uint8Array>) => {
    let sessions = 0;
    const ort: WebOrtModule = {
      env: ortWeb.env,
      Tensor: ortWeb.Tensor,
      InferenceSession: {
        create(model: Uint8Array, options?: InferenceSession.SessionOptions) {
          sessions++;
          return ortWeb.InferenceSession.create(model, options);
        },
      },
    };
    const fetch = async (input: RequestInfo | URL) => {
      const file = new URL(String(input)).pathname.replace('/models/custom/', '');
      const bytes = files[file];
      return bytes ? new Response(bytes as Uint8Array<ArrayBuffer>) : new Response('not found', { status: 404 });
    };
    const api = createWorkerHost(singleBuild(ort), {
      // A WebGPU adapter, so that the WebGPU-then-WASM fallback is in play.
      gpu: { requestAdapter: async () => ({}) },
      crossOriginIsolated: false,
      hardwareConcurrency: 1,
      fetch: fetch as typeof globalThis.fetch,
    });
    const load = () => api.load({ modelBaseUrl: 'https://bank.example/models/custom/', ortBaseUrl: ORT_BASE });
    return { api, load, sessions: () => sessions };
  };
  const folder = (dir = DEFAULT_MODEL_DIR) =>
    Object.fromEntries([...listModelFiles(dir), MODEL_MANIFEST_FILE].map((f) => [f, readFileSync(join(dir, f))]));

  it('a file that fails its manifest is reported at once, without creating any session', async () => {
    const files = { ...folder(), [MODEL]: withNaNWeights(shipped(MODEL)) };
    const { api, load, sessions } = host(files);
    const error = await failure(load());
    expect((error as Error).message).toMatch(/^onnx\/model\.onnx does not match its manifest/);
    expect(sessions()).toBe(0);
    await api.dispose();
  });

  it('weights that compute NaN fail the load (its warm-up answer) rather than the first customer message', async () => {
    const dir = copy((d) => {
      writeFileSync(join(d, MODEL), withNaNWeights(shipped(MODEL)));
      writeModelManifest(d);
    });
    const { api, load } = host(folder(dir));
    const error = await failure(load());
    expect(error).toBeInstanceOf(ModelFileError);
    expect((error as Error).message).toMatch(/^onnx\/model\.onnx produced non-finite scores \(NaN\)/);
    await api.dispose();
  });

  it('the shipped folder loads and answers', async () => {
    const { api, load } = host(folder());
    expect(await load()).toMatchObject({ device: 'wasm' });
    expect((await api.classify(1, 'where is my card')).confidence).toBeGreaterThan(0);
    await api.dispose();
  });
});
