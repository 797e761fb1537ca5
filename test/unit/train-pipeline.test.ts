/**
 * `npm run train` end to end on a bank's own tiny CSV (text,label) with its own `out_of_scope`
 * rows: the label set comes from the data (out_of_scope last), the out-of-scope threshold is
 * chosen and stored, the folder it writes loads in the engine, and a second run reuses the cached
 * member. The bundled negatives are left out here (negatives: false) to keep the test quick.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { env, pipeline, type TextClassificationOutput } from '@huggingface/transformers';
import { describe, expect, it } from 'vitest';
import { loadNodeEngine } from '../../src/engine/custom-node-engine';
import { DEFAULT_SETTINGS } from '../../src/training/prepare';
import { runTraining } from '../../src/training/run-training';

const examples: Record<string, string[]> = {
  freeze_card: [
    'please freeze my card',
    'block my card now',
    'I need to freeze the card',
    'can you lock my debit card',
    'freeze card please',
    'lock the card',
  ],
  loan_status: [
    'is my loan approved',
    'what is the status of my loan',
    'loan application status',
    'has the loan been approved yet',
    'my loan status please',
    'when will my loan be decided',
  ],
  open_account: [
    'I want to open an account',
    'how do I open a new account',
    'open a savings account',
    'sign up for an account',
    'create an account for me',
    'new account please',
  ],
  out_of_scope: ['what is the weather', 'play some music', 'hello there', 'tell me a joke', 'book a table for two', 'set an alarm'],
};

describe('training on a bank’s own CSV', () => {
  it('writes a model folder with the data’s labels that the engine loads, and resumes from cache', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'train-'));
    const csv = join(dir, 'intents.csv');
    const rows = Object.entries(examples).flatMap(([label, texts]) => texts.map((t) => `"${t}",${label}`));
    writeFileSync(csv, ['text,label', ...rows, ...rows].join('\n'));
    const options = {
      ...DEFAULT_SETTINGS,
      data: csv,
      members: 1,
      epochs: 2,
      vocabSize: 150,
      validationFraction: 0.2,
      shape: { ...DEFAULT_SETTINGS.shape, dModel: 32, ffn: 64, layers: 1, maxTokens: 16 },
      out: join(dir, 'model'),
      cacheDir: join(dir, 'cache'),
      parallel: 1,
      weights: 'int8' as const,
      command: 'test',
      negatives: false,
      log: () => {},
    };
    const report = await runTraining(options);
    expect(report.labels).toBe(4);
    expect(report.outOfScope?.threshold).toBeGreaterThanOrEqual(0);
    expect(report.members[0]!.cached).toBe(false);
    const layout = ['onnx/model.onnx', 'tokenizer.json', 'tokenizer_config.json', 'spelling.json', 'config.json', 'manifest.json'];
    for (const file of [...layout, 'MODEL_CARD.md', 'training-report.json']) expect(existsSync(join(options.out, file))).toBe(true);
    const config = JSON.parse(readFileSync(join(options.out, 'config.json'), 'utf8'));
    expect(config.labels).toEqual(['freeze_card', 'loan_status', 'open_account', 'out_of_scope']);
    expect(config.outOfScope.threshold).toBe(report.outOfScope!.threshold);

    const engine = await loadNodeEngine(options.out);
    const p = await engine.classify('freeze my card');
    expect(['freeze_card', 'loan_status', 'open_account', 'out_of_scope']).toContain(p.intent);
    // `top` never lists the reserved label, whatever the answer.
    expect(p.top.map((t) => t.intent)).not.toContain('out_of_scope');

    // The retrained folder is a transformers.js text-classification model too, with the same best label.
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = dir;
    const classifier = await pipeline('text-classification', 'model');
    const [theirs] = (await classifier('freeze my card')) as TextClassificationOutput;
    const scores = (await engine.scoreBatch(['freeze my card']))[0]!;
    expect(theirs!.label).toBe(engine.labels[scores.indexOf(Math.max(...scores))]);
    await classifier.dispose();
    await engine.dispose();

    const again = await runTraining(options);
    expect(again.members[0]!.cached).toBe(true);
    expect(again.temperature).toBeCloseTo(report.temperature, 6);
  });
});
