/**
 * Interoperability (issue 14, item 6): the custom model's folder, public/models/custom, as it
 * ships, also loads in transformers.js as `pipeline('text-classification', folder)`, local files
 * only, and on every row of the Banking77 test split its top label is our engine's.
 *
 * Like with like: the pipeline answers the argmax over all 78 outputs (`out_of_scope` is one of
 * them), so it is compared with the argmax of our engine's probabilities (`scoreBatch`), before our
 * out-of-scope threshold; the threshold rule applied to the pipeline's scores is compared with our
 * engine's answers as well. A Hugging Face tokenizer cannot express our spelling correction, so the
 * exact comparison is with our engine on the same files without the word list (config.json without
 * `files.spelling`), and the engine as shipped may differ only on rows whose tokens the spelling
 * correction changes.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { env, pipeline, type TextClassificationPipeline, type TextClassificationOutput } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OUT_OF_SCOPE } from '../../src/core/labels';
import { decide } from '../../src/core/out-of-scope';
import type { CustomEngine } from '../../src/engine/custom-engine';
import { DEFAULT_MODEL_DIR, loadNodeEngine } from '../../src/engine/custom-node-engine';
import { writeModelManifest } from '../../src/engine/model-manifest-node';
import { readLabelledCsv } from '../../src/training/data';

const BATCH = 64;
const texts = readLabelledCsv('data/banking77/test.csv').map((r) => r.text);

let scratch: string;
let classifier: TextClassificationPipeline;
/** The engine as shipped (with spelling correction). */
let engine: CustomEngine;
/** The same files, config.json without `files.spelling`: tokenizes as a Hugging Face tokenizer can. */
let plain: CustomEngine;
/** Per row, the pipeline's score for each label, in config.json's label order. */
let hfScores: number[][];

const argmax = (scores: ArrayLike<number>) => {
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i]! > scores[best]!) best = i;
  return best;
};

async function allScores(run: (batch: string[]) => Promise<ArrayLike<number>[]>): Promise<ArrayLike<number>[]> {
  const out: ArrayLike<number>[] = [];
  for (let start = 0; start < texts.length; start += BATCH) out.push(...(await run(texts.slice(start, start + BATCH))));
  return out;
}

beforeAll(async () => {
  // Only the folder on disk: nothing from the Hub.
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = resolve(DEFAULT_MODEL_DIR, '..');
  classifier = await pipeline('text-classification', 'custom');
  engine = await loadNodeEngine();

  scratch = mkdtempSync(join(tmpdir(), 'custom-plain-'));
  cpSync(DEFAULT_MODEL_DIR, scratch, { recursive: true });
  const config = JSON.parse(readFileSync(join(scratch, 'config.json'), 'utf8')) as { files: Record<string, string> };
  delete config.files.spelling;
  writeFileSync(join(scratch, 'config.json'), JSON.stringify(config));
  writeModelManifest(scratch);
  plain = await loadNodeEngine(scratch);

  const labels = engine.labels;
  hfScores = (await allScores(async (batch) => {
    const results = (await classifier(batch, { top_k: null })) as TextClassificationOutput[];
    return results.map((result) => {
      const byLabel = new Map(result.map((r) => [r.label, r.score]));
      return labels.map((label) => byLabel.get(label)!);
    });
  })) as number[][];
}, 300_000);

afterAll(async () => {
  await Promise.all([classifier?.dispose(), engine?.dispose(), plain?.dispose()]);
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('transformers.js runs public/models/custom as a text-classification pipeline', () => {
  it('finds the folder’s labels, and names out_of_scope for small talk', async () => {
    expect(texts).toHaveLength(3080);
    expect(await classifier('I still have not received my new card')).toEqual([{ label: 'card_arrival', score: expect.any(Number) }]);
    expect(await classifier('what is the weather tomorrow')).toEqual([{ label: OUT_OF_SCOPE, score: expect.any(Number) }]);
    expect(hfScores.every((scores) => scores.length === 78 && scores.every(Number.isFinite))).toBe(true);
  });

  it('tokenizes every test row, and a long one, as our WordPiece does without spelling correction; pads right with [PAD]', () => {
    const long = 'I still have not received my new card. '.repeat(20);
    const mismatches = [...texts, long].filter(
      (text) => classifier.tokenizer.encode(text).join() !== plain.tokenizer.encode(text, Number.POSITIVE_INFINITY).ids.join(),
    );
    expect(mismatches).toEqual([]);
    // The pipeline's call: padded to the longest, truncated at the model's 64 tokens like our engine.
    const { input_ids, attention_mask } = classifier.tokenizer(['card', long], { padding: true, truncation: true });
    expect(input_ids.dims).toEqual([2, 64]);
    expect(Array.from(input_ids.data as BigInt64Array, Number)).toEqual([
      ...plain.tokenizer.encode('card').ids,
      ...new Array<number>(64 - plain.tokenizer.encode('card').ids.length).fill(plain.tokenizer.padId),
      ...plain.tokenizer.encode(long, 64).ids,
    ]);
    expect(Array.from(attention_mask.data as BigInt64Array, Number).slice(0, 64)).toEqual([
      ...plain.tokenizer.encode('card').ids.map(() => 1),
      ...new Array<number>(64 - plain.tokenizer.encode('card').ids.length).fill(0),
    ]);
  });

  it('gives our engine’s top label on all 3,080 rows, with its probabilities (spelling correction off on both sides)', async () => {
    const ours = await allScores((batch) => plain.scoreBatch(batch));
    let sameTop = 0;
    let sameAnswer = 0;
    let maxDifference = 0;
    ours.forEach((scores, row) => {
      const theirs = hfScores[row]!;
      if (argmax(scores) === argmax(theirs)) sameTop++;
      // Our rule (best in-scope label, out_of_scope below the stored threshold: what classify answers) on both.
      if (decide(scores, plain.labels, 1, plain.oosThreshold).intent === decide(theirs, plain.labels, 1, plain.oosThreshold).intent)
        sameAnswer++;
      for (let i = 0; i < scores.length; i++) maxDifference = Math.max(maxDifference, Math.abs(scores[i]! - theirs[i]!));
    });
    console.log(
      `transformers.js pipeline vs our engine without spelling correction, Banking77 test split: top label (argmax of 78) ` +
        `equal on ${sameTop}/${texts.length} rows; with our out-of-scope threshold applied to both, ` +
        `the same answer on ${sameAnswer}/${texts.length}; max |probability difference| ${maxDifference.toExponential(1)}`,
    );
    expect(sameTop).toBe(texts.length);
    expect(sameAnswer).toBe(texts.length);
    expect(maxDifference).toBeLessThan(1e-4);
  });

  it('differs from our engine as shipped only on rows whose tokens the spelling correction changes', async () => {
    const ours = await allScores((batch) => engine.scoreBatch(batch));
    const differing = texts.flatMap((text, row) => (argmax(ours[row]!) === argmax(hfScores[row]!) ? [] : [text]));
    const corrected = new Set(
      texts.filter((text) => engine.tokenizer.encode(text, 64).ids.join() !== plain.tokenizer.encode(text, 64).ids.join()),
    );
    console.log(
      `transformers.js pipeline vs our engine as shipped (spelling correction on): top label equal on ` +
        `${texts.length - differing.length}/${texts.length} rows; the spelling correction changes the tokens of ` +
        `${corrected.size} rows, and the top label of the ${differing.length} that differ`,
    );
    expect(differing.filter((text) => !corrected.has(text))).toEqual([]);
    expect(differing.length).toBeLessThan(texts.length / 100);
  });
});
