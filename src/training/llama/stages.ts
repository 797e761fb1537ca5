/**
 * The three steps that rebuild the bundled demo Llama (`npm run train:llama`, scripts/train-llama.ts),
 * each reading the previous one's files under WORK:
 *   base   a small Llama trained from nothing as a causal LM (or read from a model folder of ours) → WORK/base
 *   qlora  the base frozen in NF4, LoRA adapters trained to write the intent → WORK/adapter
 *   merge  `merge-qlora` on the two → OUT, the out-of-scope threshold, validation and test figures, the model card
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NodeLlamaAdapter } from '../../adapters/llama-node';
import { evaluate } from '../../bench/evaluate';
import { writeModelManifest } from '../../engine/model-manifest-node';
import { fromHfConfig } from '../../models/llama/config';
import { prettyJson } from '../../convert/llama/hf-folder';
import { mergeToTransformersJs } from '../../convert/llama/merge-export';
import { initLlamaWeights } from '../../models/llama/reference';
import { trainClm, type TrainLoopResult } from './train-clm';
import { trainQlora } from './train-qlora';
import { readHfLlama, writeHfLlama, writePeftAdapter, writeZeroAdapter } from './checkpoint';
import { readLlamaFromOnnx } from './base-from-onnx';
import { loadNegatives } from '../negatives';
import { chooseOosThreshold } from '../oos-threshold';
import { OUT_OF_SCOPE } from '../../core/labels';
import {
  classifierSpec,
  clmExamples,
  demoConfig,
  labelledClmExamples,
  promptCompletions,
  readLlamaCorpus,
  trainLlamaTokenizer,
} from './corpus';
import { writeLlamaModelCard, type LlamaTrainingReport } from './model-card';
import { BASE_SETTINGS, QLORA_SETTINGS, type BaseSettings, type QloraSettings } from './settings';
import { readLabelledCsv, type Example } from '../data';

type Log = (line: string) => void;

const BANKING77_TEST = 'data/banking77/test.csv';
export const LLAMA_STAGES = ['base', 'qlora', 'merge'] as const;
export type LlamaStage = (typeof LLAMA_STAGES)[number];

/** Every 50th step's line, with the minutes so far. */
function stepLogger(label: string, log: Log): Log {
  const started = Date.now();
  let n = 0;
  return (line) => {
    if (++n % 50 === 0) log(`[${label} ${((Date.now() - started) / 60000).toFixed(1)} min] ${line}`);
  };
}

/** The loop settings of one step: its schedule, `epochs` passes (or `maxSteps`) in batches. */
function loopOptions(
  label: string,
  s: Pick<BaseSettings, 'epochs' | 'batchSize' | 'learningRate' | 'weightDecay' | 'warmupSteps' | 'seed'>,
  examples: number,
  padId: number,
  maxSteps: number | undefined,
  log: Log,
) {
  const { batchSize, learningRate, weightDecay, warmupSteps, seed } = s;
  const steps = Math.min(maxSteps ?? Infinity, Math.ceil((examples * s.epochs) / batchSize));
  return { steps, padId, batchSize, learningRate, weightDecay, warmupSteps, seed, log: stepLogger(label, log) };
}

/** `training.json` beside a step's output (what the model card reads), and a one-line summary. */
async function writeStageRecord(
  label: string,
  dir: string,
  fields: object,
  steps: number,
  result: TrainLoopResult,
  log: Log,
): Promise<void> {
  const finalLoss = mean(result.losses.slice(-50));
  const record = { ...fields, steps, seconds: result.seconds, train_tokens: result.trainTokens, final_loss: finalLoss };
  await writeFile(join(dir, 'training.json'), prettyJson(record));
  log(`${label}: ${(result.seconds / 60).toFixed(1)} min, final loss ${finalLoss.toFixed(3)} → ${dir}`);
}

/** The labels and prompt the runtime reads, beside an adapter (merge-qlora copies it into the model folder). */
const writeClassifierSpec = (dir: string, oosThreshold?: number) =>
  writeFile(join(dir, 'classifier.json'), prettyJson(classifierSpec(oosThreshold)));

/** The share of in-scope validation rows the out-of-scope threshold may turn away. */
const MAX_IN_SCOPE_REJECTED = 0.03;

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/** Step 1: a small Llama trained from nothing as a causal LM → WORK/base. */
export async function trainBase(work: string, maxSteps?: number, log: Log = console.log): Promise<void> {
  const s = BASE_SETTINGS;
  const corpus = readLlamaCorpus(s);
  const tokenizer = trainLlamaTokenizer(corpus, s.vocabSize);
  const config = demoConfig(tokenizer);
  // Banking77's rows as prompt + label text, HWU64's as plain text: see labelledClmExamples.
  const labelled = labelledClmExamples(corpus.train, tokenizer, config);
  const examples = [
    ...Array.from({ length: s.labelledRepeats }, () => labelled).flat(),
    ...clmExamples(corpus.outOfScope, tokenizer, config),
  ];
  const loop = loopOptions('base', s, examples.length, config.pad_token_id, maxSteps, log);
  log(`base: ${examples.length} texts, vocabulary ${tokenizer.size}, ${loop.steps} steps`);
  const result = trainClm({ config, weights: initLlamaWeights(config, s.seed), examples, ...loop });
  const dir = join(work, 'base');
  await writeHfLlama(dir, config, result.weights, tokenizer);
  await writeStageRecord('base', dir, { settings: s, texts: examples.length }, loop.steps, result, log);
}

/** The base step from a model we already ship (see --base-from): its weights, and its own training record. */
export async function baseFromModel(work: string, from: string, log: Log = console.log): Promise<void> {
  const model = await readLlamaFromOnnx(from);
  const dir = join(work, 'base');
  await writeHfLlama(dir, model.config, model.weights, model.tokenizer);
  const previous = JSON.parse(await readFile(join(from, 'training-report.json'), 'utf8')) as LlamaTrainingReport;
  // The card describes the model's whole history: the previous base's record, and what came after it.
  const record = {
    ...previous.base,
    continuedFrom: { dir: from, qlora: previous.qlora, validationAccuracy: previous.validation.accuracy },
  };
  await writeFile(join(dir, 'training.json'), prettyJson(record));
  log(`base: ${from} read back from its float32 graph → ${dir}`);
}

/** Step 2: LoRA adapters on the NF4 base → WORK/adapter. */
export async function trainAdapter(work: string, s: QloraSettings, maxSteps?: number, log: Log = console.log): Promise<void> {
  const base = await readHfLlama(join(work, 'base'));
  const corpus = readLlamaCorpus(BASE_SETTINGS);
  const examples = promptCompletions([...corpus.train, ...loadNegatives().train], base.tokenizer, base.config);
  const loop = loopOptions('qlora', s, examples.length, base.config.pad_token_id, maxSteps, log);
  log(`qlora: ${examples.length} examples, r=${s.r}, alpha=${s.alpha}, ${loop.steps} steps`);
  const result = trainQlora({
    config: base.config,
    baseWeights: base.weights,
    examples,
    ...loop,
    r: s.r,
    alpha: s.alpha,
    targetModules: s.targetModules,
    tokenDropout: { rate: s.tokenDropout, id: base.tokenizer.unkId },
  });
  const dir = join(work, 'adapter');
  await writePeftAdapter(dir, result.adapterConfig, result.adapter);
  await writeClassifierSpec(dir);
  await writeStageRecord('qlora', dir, { settings: s, examples: examples.length }, loop.steps, result, log);
}

/** `merge-qlora` on the two folders, then validation and test figures through the runtime's own adapter, then the card. */
export async function mergeAndReport(
  work: string,
  out: string,
  o: { command: string; evalLimit?: number; log?: Log; progress?: Log },
): Promise<void> {
  const { evalLimit, log = console.log, progress = () => {} } = o;
  const started = performance.now();
  // baseNf4: the adapter learnt against the NF4 base; merging into that is worth ~2 points of validation accuracy here.
  const merge = (adapterDir: string, outDir: string, fp32: 'auto' | false = 'auto') =>
    mergeToTransformersJs({ baseDir: join(work, 'base'), adapterDir, outDir, baseNf4: true, fp32, log: console.log });
  const summary = await merge(join(work, 'adapter'), out);
  // The engine checks the folder against its manifest: one for these files before evaluating them.
  writeModelManifest(out);
  const mergeSeconds = (performance.now() - started) / 1000;
  for (const w of summary.warnings) log(`warning: ${w}`);

  const corpus = readLlamaCorpus(BASE_SETTINGS);
  const negatives = loadNegatives();
  const validationRows = [...corpus.validation.slice(0, evalLimit), ...negatives.validation.slice(0, evalLimit)];
  const evaluateDir = async (name: string, modelDir: string, rows: Example[], oosThreshold?: number) => {
    const adapter = new NodeLlamaAdapter({ modelDir });
    await adapter.load();
    try {
      const report = await evaluate(adapter, rows, {
        oosThreshold,
        onProgress: (done) => progress(`${name} ${done}/${rows.length}`),
      });
      log(
        `\n${name} accuracy ${(100 * report.accuracy).toFixed(2)}%, p50 ${report.p50_ms.toFixed(1)} ms, p99 ${report.p99_ms.toFixed(1)} ms`,
      );
      return report;
    } finally {
      await adapter.dispose();
    }
  };
  // The threshold: from the validation answers with rejection off, then stored with the model.
  const unfiltered = await collectPredictions(out, validationRows, progress);
  const oos = chooseOosThreshold(
    validationRows.map((r) => r.label),
    unfiltered.map((p) => p.top[0]?.score ?? 0),
    MAX_IN_SCOPE_REJECTED,
  );
  log(`out-of-scope threshold ${oos.threshold}: ${JSON.stringify(oos.validation)}`);
  await writeClassifierSpec(out, oos.threshold);
  writeModelManifest(out); // classifier.json changed
  const validation = await evaluateDir('validation', out, validationRows);
  const test = await evaluateDir('test', out, readLabelledCsv(BANKING77_TEST).slice(0, evalLimit));
  const heldOutNegatives = await evaluateDir('held-out out-of-scope', out, negatives.test.slice(0, evalLimit));

  // What QLoRA adds: the base through the same merge with an adapter of zeros.
  const zero = join(work, 'zero-adapter');
  const config = fromHfConfig(JSON.parse(await readFile(join(out, 'config.json'), 'utf8')));
  await writeZeroAdapter(zero, config, QLORA_SETTINGS.targetModules);
  await writeClassifierSpec(zero);
  await merge(zero, join(work, 'base-merged'), false); // evaluated on q4 only: no float32 graph
  // In-scope rows only, rejection off: the base never learnt the out_of_scope label.
  const baseValidation = await evaluateDir(
    'base alone, validation',
    join(work, 'base-merged'),
    validationRows.filter((r) => r.label !== OUT_OF_SCOPE),
    0,
  );

  const readRecord = async (dir: string) => JSON.parse(await readFile(join(work, dir, 'training.json'), 'utf8'));
  const report: LlamaTrainingReport = {
    config,
    base: await readRecord('base'),
    qlora: await readRecord('adapter'),
    mergeSeconds,
    files: summary.files,
    validation,
    baseValidation,
    test,
    heldOutNegatives,
    oos,
    command: o.command,
  };
  await writeFile(join(out, 'training-report.json'), prettyJson(report));
  await writeLlamaModelCard(join(out, 'MODEL_CARD.md'), report);
  log(`wrote ${join(out, 'MODEL_CARD.md')}`);
}

/** The model's answers with rejection off, for choosing the threshold. */
async function collectPredictions(modelDir: string, rows: Example[], progress: Log) {
  const adapter = new NodeLlamaAdapter({ modelDir });
  await adapter.load();
  try {
    const out = [];
    for (const [i, row] of rows.entries()) {
      out.push(await adapter.classify(row.text, { oosThreshold: 0 }));
      if ((i + 1) % 500 === 0) progress(`threshold ${i + 1}/${rows.length}`);
    }
    return out;
  } finally {
    await adapter.dispose();
  }
}
