/**
 * Model integrity for the Llama (issue 13): transformers.js reads the folder itself, so the engine
 * hands it the files through a cache of its own that checks each against manifest.json first. On
 * a tiny random Llama in Node (the same engine runs in the browser's worker, over fetch).
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as transformers from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNodeLlamaEngine } from '../../src/adapters/llama-node';
import { ModelFileError } from '../../src/core/errors';
import { CLASSIFIER_FILE, LlamaEngine } from '../../src/engine/llama-engine';
import { MODEL_MANIFEST_FILE } from '../../src/engine/model-manifest';
import { writeModelManifest } from '../../src/engine/model-manifest-node';
import { writeTransformersJsFolder } from '../../src/convert/llama/hf-folder';
import { initLlamaWeights } from '../../src/models/llama/reference';
import { config, tinyTokenizer } from '../support/tiny-llama';

const LABELS = ['w10', 'w10 w11', 'w12 w13', 'w20'];

let root: string;
let good: string;

async function writeFolder(dir: string, weights = initLlamaWeights(config, 13, 0.2)): Promise<void> {
  await writeTransformersJsFolder(dir, config, weights, tinyTokenizer());
  await writeFile(join(dir, CLASSIFIER_FILE), JSON.stringify({ labels: LABELS, prompt: 'w5 w6 {text} w7' }));
  writeModelManifest(dir);
}

/** A copy of the good folder, changed by `edit` after its manifest was written. */
async function variant(name: string, edit: (dir: string) => Promise<void>): Promise<string> {
  const dir = join(root, name);
  await cp(good, dir, { recursive: true });
  await edit(dir);
  return dir;
}

const loadFailure = (modelDir: string) =>
  loadNodeLlamaEngine({ modelDir }).then(
    async (engine) => {
      await engine.dispose();
      return undefined;
    },
    (error: unknown) => error,
  );

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'llama-integrity-'));
  good = join(root, 'tiny-llama');
  await writeFolder(good);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('the Llama engine checks the files transformers.js reads', () => {
  it('loads a folder that matches, from the very bytes it checked, and leaves transformers.js as it found it', async () => {
    const read: string[] = [];
    const engine = await LlamaEngine.load({
      transformers,
      modelPath: good,
      device: 'cpu',
      readBytes: async (path) => {
        read.push(path.slice(good.length + 1));
        return new Uint8Array(await readFile(path));
      },
    });
    expect(read).toEqual(
      expect.arrayContaining([
        CLASSIFIER_FILE,
        MODEL_MANIFEST_FILE,
        'config.json',
        'tokenizer.json',
        'tokenizer_config.json',
        'onnx/model_q4.onnx',
      ]),
    );
    // The fp32 graph is listed but not read: only what this dtype needs.
    expect(read).not.toContain('onnx/model.onnx');
    expect(transformers.env.useCustomCache).toBe(false);
    const prediction = await engine.classify('w30 w31');
    expect(LABELS).toContain(prediction.intent);
    expect(prediction.confidence).toBeGreaterThan(0);
    await engine.dispose();
  });

  it.each([
    [
      'onnx/model_q4.onnx',
      async (dir: string) => {
        const bytes = await readFile(join(dir, 'onnx/model_q4.onnx'));
        bytes[bytes.length - 100]! ^= 0x40;
        await writeFile(join(dir, 'onnx/model_q4.onnx'), bytes);
      },
    ],
    [
      'tokenizer.json',
      async (dir: string) =>
        writeFile(join(dir, 'tokenizer.json'), (await readFile(join(dir, 'tokenizer.json'), 'utf8')).replace('w40', 'w04')),
    ],
    ['config.json', async (dir: string) => writeFile(join(dir, 'config.json'), (await readFile(join(dir, 'config.json'), 'utf8')) + ' ')],
    [CLASSIFIER_FILE, async (dir: string) => writeFile(join(dir, CLASSIFIER_FILE), JSON.stringify({ labels: ['w10'], prompt: '{text}' }))],
  ])('%s changed after the manifest: a ModelFileError naming it', async (file, edit) => {
    const dir = await variant(`changed-${file.replace(/\W/g, '-')}`, edit);
    const error = await loadFailure(dir);
    expect(error).toBeInstanceOf(ModelFileError);
    expect(error).toMatchObject({ file });
    expect((error as Error).message).toMatch(new RegExp(`^${file.replace(/[./]/g, '\\$&')} does not match its manifest`));
    expect(transformers.env.useCustomCache).toBe(false);
  });

  it('a folder without manifest.json loads unchecked, or is refused when the caller requires one', async () => {
    const dir = await variant('no-manifest', (d) => rm(join(d, MODEL_MANIFEST_FILE)));
    const engine = await loadNodeLlamaEngine({ modelDir: dir });
    await engine.dispose();
    const error = await LlamaEngine.load({ transformers, modelPath: dir, device: 'cpu', readBytes: readFile, requireManifest: true }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ file: MODEL_MANIFEST_FILE });
    expect((error as Error).message).toMatch(/^Model file manifest\.json is missing/);
  });

  it('weights that compute NaN answer a clear error naming the graph, never a NaN confidence', async () => {
    const weights = initLlamaWeights(config, 13, 0.2);
    weights['model.norm.weight']!.data.fill(NaN);
    const dir = join(root, 'nan-weights');
    await writeFolder(dir, weights);
    const engine = await loadNodeLlamaEngine({ modelDir: dir });
    const error = await engine.classify('w30 w31').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelFileError);
    expect(error).toMatchObject({ file: 'onnx/model_q4.onnx' });
    expect((error as Error).message).toMatch(/^onnx\/model_q4\.onnx produced non-finite scores \(NaN\): its weights are corrupt/);
    await expect(engine.warmUp()).rejects.toThrow(/non-finite scores/);
    await engine.dispose();
  });
});
