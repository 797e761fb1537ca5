/** The custom engine in Node on the shipped model: answers, odd input, and broken model files. */
import { cpSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelFileError } from '../../src/core/errors';
import { BANKING77_LABELS, OUT_OF_SCOPE } from '../../src/core/labels';
import type { CustomEngine } from '../../src/engine/custom-engine';
import { writeModelManifest } from '../../src/engine/model-manifest-node';
import { DEFAULT_MODEL_DIR, loadNodeEngine } from '../../src/engine/custom-node-engine';

let engine: CustomEngine;

beforeAll(async () => {
  engine = await loadNodeEngine();
});
afterAll(async () => {
  await engine.dispose();
});

describe('custom engine on the shipped model', () => {
  it('classifies the issue’s example as card_arrival with a calibrated top-5', async () => {
    const p = await engine.classify('I still have not received my new card');
    expect(p.intent).toBe('card_arrival');
    expect(p).toMatchObject({ model: 'custom', device: 'cpu', truncated: false, masked: false, masked_categories: [] });
    // What routing adds (fallback_from, escalated_from) is the pipeline's, never the engine's.
    expect(p).not.toHaveProperty('fallback_from');
    expect(p.top).toHaveLength(5);
    expect(p.top[0]).toEqual({ intent: p.intent, score: p.confidence });
    expect(p.top.map((t) => t.score)).toEqual([...p.top.map((t) => t.score)].sort((a, b) => b - a));
    expect(p.confidence).toBeGreaterThan(0);
    expect(p.confidence).toBeLessThanOrEqual(1);
    expect(p.latency_ms).toBeGreaterThan(0);
  });

  it('knows the other intents too', async () => {
    expect((await engine.classify('my card got stolen')).intent).toBe('lost_or_stolen_card');
    expect((await engine.classify('What exchange rate do you use?')).intent).toBe('exchange_rate');
  });

  it('says out_of_scope for small talk and other domains, and still names what it was closest to', async () => {
    for (const text of ['what is the weather tomorrow', 'book me a table for two at 8pm', 'hello', 'play some jazz']) {
      const p = await engine.classify(text);
      expect(p.intent, text).toBe(OUT_OF_SCOPE);
      expect(p.top.map((t) => t.intent)).not.toContain(OUT_OF_SCOPE);
      expect(p.top).toHaveLength(5);
      expect(p.confidence).toBeCloseTo(1 - p.top[0]!.score, 6);
      expect(p.top[0]!.score).toBeLessThan(engine.oosThreshold);
    }
  });

  it('keeps its answer through typos and everyday phrasing', async () => {
    expect((await engine.classify('I still havent recieved my new card')).intent).toBe('card_arrival');
    expect((await engine.classify('my wallet was stolen with my card in it')).intent).toBe('lost_or_stolen_card');
    expect((await engine.classify('whats the exchnage rate you use')).intent).toBe('exchange_rate');
  });

  it('stores its threshold, and a threshold of 0 turns rejection off', async () => {
    expect(engine.oosThreshold).toBeGreaterThan(0);
    expect(engine.oosThreshold).toBeLessThan(1);
    const off = await engine.classify('what is the weather tomorrow', { oosThreshold: 0 });
    expect(BANKING77_LABELS).toContain(off.intent);
    expect(off.confidence).toBe(off.top[0]!.score);
    // Everything is out of scope at 1: the threshold reaches the rule.
    expect((await engine.classify('I still have not received my new card', { oosThreshold: 1 })).intent).toBe(OUT_OF_SCOPE);
  });

  it('answers with a real label or out_of_scope for emoji, right-to-left, control, zero-width and markup input', async () => {
    for (const text of [
      '💳💳💳 ???',
      'بطاقتي لم تصل',
      'card\u0000\u0007 arrived?',
      'where\u200b is\u200d my card',
      '<img src=x onerror=alert(1)><script>x()</script>',
    ]) {
      const p = await engine.classify(text);
      expect([...BANKING77_LABELS, OUT_OF_SCOPE]).toContain(p.intent);
    }
  });

  it('truncates 1 MB of text, says so, and still answers', async () => {
    const p = await engine.classify('I still have not received my new card. '.repeat(26_000));
    expect(p.truncated).toBe(true);
    expect(p.intent).toBe('card_arrival');
  });

  it('gives the same answers in a padded batch as one at a time', async () => {
    const texts = ['card', 'I want to change my PIN, how can I do that at an ATM?', 'refund'];
    const batch = await engine.classifyBatch(texts);
    for (const [i, text] of texts.entries()) {
      const single = await engine.classify(text);
      expect(batch[i]!.intent).toBe(single.intent);
      expect(batch[i]!.confidence).toBeCloseTo(single.confidence, 5);
    }
  });
});

// Each broken folder gets a manifest of its broken files, so that the check below the manifest is
// the one that answers; model-integrity.test.ts covers files that do not match their manifest.
describe('broken model folders give an error that names the file', () => {
  const copy = () => {
    const dir = mkdtempSync(join(tmpdir(), 'model-'));
    cpSync(DEFAULT_MODEL_DIR, dir, { recursive: true });
    return dir;
  };
  const expectFileError = async (dir: string, file: string, message: RegExp) => {
    writeModelManifest(dir);
    const error = await loadNodeEngine(dir).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ModelFileError);
    expect(error).toMatchObject({ file });
    expect((error as Error).message).toMatch(message);
    rmSync(dir, { recursive: true });
    return error as ModelFileError;
  };

  it('missing onnx/model.onnx', async () => {
    const dir = copy();
    rmSync(join(dir, 'onnx/model.onnx'));
    await expectFileError(dir, 'onnx/model.onnx', /onnx\/model\.onnx is missing/);
  });

  it('corrupt onnx/model.onnx', async () => {
    const dir = copy();
    writeFileSync(join(dir, 'onnx/model.onnx'), Buffer.from('this is not a protobuf'.repeat(100)));
    const error = await expectFileError(dir, 'onnx/model.onnx', /onnx\/model\.onnx could not be loaded/);
    // onnxruntime's own error is kept as the cause, not only quoted in the message.
    expect(error.cause).toBeInstanceOf(Error);
    expect(error.message).toContain((error.cause as Error).message);
  });

  it('missing or corrupt spelling.json', async () => {
    const a = copy();
    rmSync(join(a, 'spelling.json'));
    await expectFileError(a, 'spelling.json', /spelling\.json is missing/);
    const b = copy();
    writeFileSync(join(b, 'spelling.json'), JSON.stringify({ words: 'card' }));
    await expectFileError(b, 'spelling.json', /spelling\.json is not a word list/);
  });

  it('config.json whose id2label (for transformers.js) disagrees with its labels', async () => {
    const dir = copy();
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { id2label: Record<string, string> };
    config.id2label['0'] = 'card_linking';
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    await expectFileError(dir, 'config.json', /id2label does not match labels/);
  });

  it('a Hugging Face tokenizer.json that does not tokenize as ours (another normaliser) is refused, not misread', async () => {
    const dir = copy();
    const hf = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')) as { normalizer: { normalizers: { type: string }[] } };
    hf.normalizer.normalizers = hf.normalizer.normalizers.filter((n) => n.type !== 'Lowercase');
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(hf));
    await expectFileError(dir, 'tokenizer.json', /tokenizer\.json: its normalizer is not the one this engine implements/);
  });

  it('corrupt config.json and tokenizer.json', async () => {
    const a = copy();
    writeFileSync(join(a, 'config.json'), '{"vocabSize": ');
    const corrupt = await expectFileError(a, 'config.json', /config\.json is corrupt/);
    expect(corrupt.cause).toBeInstanceOf(SyntaxError);
    const b = copy();
    writeFileSync(join(b, 'tokenizer.json'), JSON.stringify({ type: 'wordpiece', version: 1, vocab: ['[PAD]', '[UNK]', 'a'] }));
    await expectFileError(b, 'tokenizer.json', /different trainings/);
  });
});

describe('a folder in the layout before transformers.js (model.onnx at the top, our own tokenizer.json with its word list)', () => {
  it('still loads, and answers as the shipped folder does, spelling correction included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'model-'));
    cpSync(DEFAULT_MODEL_DIR, dir, { recursive: true });
    renameSync(join(dir, 'onnx/model.onnx'), join(dir, 'model.onnx'));
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(engine.tokenizer.toJSON()));
    const {
      files: _f,
      model_type: _m,
      architectures: _a,
      problem_type: _p,
      id2label: _i,
      label2id: _l,
      'transformers.js_config': _j,
      ...config
    } = engine.config;
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, files: { model: 'model.onnx', tokenizer: 'tokenizer.json' } }));
    for (const file of ['spelling.json', 'tokenizer_config.json']) rmSync(join(dir, file));
    rmSync(join(dir, 'onnx'), { recursive: true });
    writeModelManifest(dir);
    const old = await loadNodeEngine(dir);
    for (const text of ['I still havent recieved my new card', 'what is the weather tomorrow', 'whats the exchnage rate you use']) {
      expect(await old.classify(text)).toMatchObject({ intent: (await engine.classify(text)).intent });
    }
    await old.dispose();
    rmSync(dir, { recursive: true });
  });
});
