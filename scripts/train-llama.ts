/**
 * npm run train:llama -- [--stage base|qlora|merge|all] [--work .cache/llama] [--out public/models/llama-qlora]
 *
 * Rebuilds the bundled demo Llama in three steps, each reading the previous one's files:
 *   base   a small Llama trained from nothing as a causal LM on Banking77's training rows (written as
 *          prompt + label) and the HWU64 utterances → WORK/base (a Hugging Face folder: config.json,
 *          model.safetensors, tokenizer)
 *   qlora  the base frozen in NF4, LoRA adapters on every projection trained to write the intent
 *          after the prompt → WORK/adapter (adapter_config.json, adapter_model.safetensors, classifier.json)
 *   merge  `merge-qlora` on the two (the command a bank runs on its own Llama) → OUT, then the model card
 *          with validation and test figures, and the base alone on validation (merged with a zero adapter)
 * --base-from DIR: the base step reads an existing model folder of ours (its float32 onnx/model.onnx)
 *          instead of training from nothing: QLoRA then fine-tunes that model again, as a bank retunes
 *          its own tuned Llama. The bundled demo was last built so, from the previous bundle.
 * QLoRA reads Banking77's training rows and the bundled out-of-scope examples (label `out_of_scope`,
 * src/training/negatives.ts); the merge step chooses the out-of-scope threshold on validation.
 * Settings: src/training/llama/settings.ts; `--r --alpha --epochs --lr --token-dropout` override QLoRA's. `--steps N` cuts each step short and
 * evaluates on 50 rows only (smoke runs).
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NodeLlamaAdapter } from '../src/adapters/llama-node';
import { evaluate } from '../src/bench/evaluate';
import { writeModelManifest } from '../src/engine/model-manifest-node';
import { fromHfConfig } from '../src/models/llama/config';
import { prettyJson } from '../src/models/llama/hf-folder';
import { mergeToTransformersJs } from '../src/models/llama/merge-export';
import { initLlamaWeights } from '../src/models/llama/reference';
import { trainClm, type TrainLoopResult } from '../src/models/llama/train-clm';
import { trainQlora } from '../src/models/llama/train-qlora';
import { readHfLlama, writeHfLlama, writePeftAdapter, writeZeroAdapter } from '../src/training/llama/checkpoint';
import { readLlamaFromOnnx } from '../src/training/llama/base-from-onnx';
import { loadNegatives } from '../src/training/negatives';
import { chooseOosThreshold } from '../src/training/oos-threshold';
import { OUT_OF_SCOPE } from '../src/core/labels';
import {
  classifierSpec,
  clmExamples,
  demoConfig,
  labelledClmExamples,
  promptCompletions,
  readLlamaCorpus,
  trainLlamaTokenizer,
} from '../src/training/llama/corpus';
import { writeLlamaModelCard, type LlamaTrainingReport } from '../src/training/llama/model-card';
import { BASE_SETTINGS, QLORA_SETTINGS, type BaseSettings, type QloraSettings } from '../src/training/llama/settings';
import { readLabelledCsv, type Example } from '../src/training/data';
import { defineCommand, positiveInt, positiveNumber, runCli } from './lib/cli';

const BANKING77_TEST = 'data/banking77/test.csv';
const STAGES = ['base', 'qlora', 'merge'] as const;
type Stage = (typeof STAGES)[number];

/** Every 50th step's line, with the minutes so far. */
function stepLogger(label: string): (line: string) => void {
  const started = Date.now();
  let n = 0;
  return (line) => {
    if (++n % 50 === 0) console.log(`[${label} ${((Date.now() - started) / 60000).toFixed(1)} min] ${line}`);
  };
}

/** The loop settings of one step: its schedule, `epochs` passes (or `maxSteps`) in batches. */
function loopOptions(
  label: string,
  s: Pick<BaseSettings, 'epochs' | 'batchSize' | 'learningRate' | 'weightDecay' | 'warmupSteps' | 'seed'>,
  examples: number,
  padId: number,
  maxSteps: number | undefined,
) {
  const { batchSize, learningRate, weightDecay, warmupSteps, seed } = s;
  const steps = Math.min(maxSteps ?? Infinity, Math.ceil((examples * s.epochs) / batchSize));
  return { steps, padId, batchSize, learningRate, weightDecay, warmupSteps, seed, log: stepLogger(label) };
}

/** `training.json` beside a step's output (what the model card reads), and a one-line summary. */
async function writeStageRecord(label: string, dir: string, fields: object, steps: number, result: TrainLoopResult): Promise<void> {
  const finalLoss = mean(result.losses.slice(-50));
  const record = { ...fields, steps, seconds: result.seconds, train_tokens: result.trainTokens, final_loss: finalLoss };
  await writeFile(join(dir, 'training.json'), prettyJson(record));
  console.log(`${label}: ${(result.seconds / 60).toFixed(1)} min, final loss ${finalLoss.toFixed(3)} → ${dir}`);
}

/** The labels and prompt the runtime reads, beside an adapter (merge-qlora copies it into the model folder). */
const writeClassifierSpec = (dir: string, oosThreshold?: number) =>
  writeFile(join(dir, 'classifier.json'), prettyJson(classifierSpec(oosThreshold)));

/** The share of in-scope validation rows the out-of-scope threshold may turn away. */
const MAX_IN_SCOPE_REJECTED = 0.03;

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

async function trainBase(work: string, maxSteps?: number): Promise<void> {
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
  const loop = loopOptions('base', s, examples.length, config.pad_token_id, maxSteps);
  console.log(`base: ${examples.length} texts, vocabulary ${tokenizer.size}, ${loop.steps} steps`);
  const result = trainClm({ config, weights: initLlamaWeights(config, s.seed), examples, ...loop });
  const dir = join(work, 'base');
  await writeHfLlama(dir, config, result.weights, tokenizer);
  await writeStageRecord('base', dir, { settings: s, texts: examples.length }, loop.steps, result);
}

/** The base step from a model we already ship (see --base-from): its weights, and its own training record. */
async function baseFromModel(work: string, from: string): Promise<void> {
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
  console.log(`base: ${from} read back from its float32 graph → ${dir}`);
}

async function trainAdapter(work: string, s: QloraSettings, maxSteps?: number): Promise<void> {
  const base = await readHfLlama(join(work, 'base'));
  const corpus = readLlamaCorpus(BASE_SETTINGS);
  const examples = promptCompletions([...corpus.train, ...loadNegatives().train], base.tokenizer, base.config);
  const loop = loopOptions('qlora', s, examples.length, base.config.pad_token_id, maxSteps);
  console.log(`qlora: ${examples.length} examples, r=${s.r}, alpha=${s.alpha}, ${loop.steps} steps`);
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
  await writeStageRecord('qlora', dir, { settings: s, examples: examples.length }, loop.steps, result);
}

/** The command that rebuilds this model from nothing: the given flags without `--stage`. */
function reproduceCommand(argv: string[]): string {
  const kept = argv.filter((a, i) => a !== '--stage' && argv[i - 1] !== '--stage' && !a.startsWith('--stage='));
  return ['npm run train:llama', ...(kept.length ? ['--', ...kept] : [])].join(' ');
}

/** `merge-qlora` on the two folders, then validation and test figures through the runtime's own adapter, then the card. */
async function mergeAndReport(work: string, out: string, argv: string[], evalLimit?: number): Promise<void> {
  const started = performance.now();
  // baseNf4: the adapter learnt against the NF4 base; merging into that is worth ~2 points of validation accuracy here.
  const merge = (adapterDir: string, outDir: string, fp32: 'auto' | false = 'auto') =>
    mergeToTransformersJs({ baseDir: join(work, 'base'), adapterDir, outDir, baseNf4: true, fp32, log: console.log });
  const summary = await merge(join(work, 'adapter'), out);
  // The engine checks the folder against its manifest: one for these files before evaluating them.
  writeModelManifest(out);
  const mergeSeconds = (performance.now() - started) / 1000;
  for (const w of summary.warnings) console.warn(`warning: ${w}`);

  const corpus = readLlamaCorpus(BASE_SETTINGS);
  const negatives = loadNegatives();
  const validationRows = [...corpus.validation.slice(0, evalLimit), ...negatives.validation.slice(0, evalLimit)];
  const evaluateDir = async (name: string, modelDir: string, rows: Example[], oosThreshold?: number) => {
    const adapter = new NodeLlamaAdapter({ modelDir });
    await adapter.load();
    try {
      const report = await evaluate(adapter, rows, {
        oosThreshold,
        onProgress: (done) => process.stderr.write(`\r${name} ${done}/${rows.length}`),
      });
      console.log(
        `\n${name} accuracy ${(100 * report.accuracy).toFixed(2)}%, p50 ${report.p50_ms.toFixed(1)} ms, p99 ${report.p99_ms.toFixed(1)} ms`,
      );
      return report;
    } finally {
      await adapter.dispose();
    }
  };
  // The threshold: from the validation answers with rejection off, then stored with the model.
  const unfiltered = await collectPredictions(out, validationRows);
  const oos = chooseOosThreshold(
    validationRows.map((r) => r.label),
    unfiltered.map((p) => p.top[0]?.score ?? 0),
    MAX_IN_SCOPE_REJECTED,
  );
  console.log(`out-of-scope threshold ${oos.threshold}: ${JSON.stringify(oos.validation)}`);
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
    command: reproduceCommand(argv),
  };
  await writeFile(join(out, 'training-report.json'), prettyJson(report));
  await writeLlamaModelCard(join(out, 'MODEL_CARD.md'), report);
  console.log(`wrote ${join(out, 'MODEL_CARD.md')}`);
}

/** The model's answers with rejection off, for choosing the threshold. */
async function collectPredictions(modelDir: string, rows: Example[]) {
  const adapter = new NodeLlamaAdapter({ modelDir });
  await adapter.load();
  try {
    const out = [];
    for (const [i, row] of rows.entries()) {
      out.push(await adapter.classify(row.text, { oosThreshold: 0 }));
      if ((i + 1) % 500 === 0) process.stderr.write(`\rthreshold ${i + 1}/${rows.length}`);
    }
    return out;
  } finally {
    await adapter.dispose();
  }
}

const command = defineCommand({
  command: 'npm run train:llama --',
  summary: `Rebuilds the bundled demo Llama in three steps, each reading the previous one's files: base (a small Llama
    trained from nothing, or read from --base-from), qlora (LoRA adapters on the NF4 base, trained to write the intent),
    merge (merge-qlora on the two, then the out-of-scope threshold, the model card with validation and test figures).`,
  options: {
    stage: { type: 'string', default: 'all', choices: ['all', ...STAGES], description: 'the step(s) to run' },
    work: { type: 'string', value: 'DIR', default: '.cache/llama', description: "the steps' folders (base/, adapter/)" },
    'base-from': {
      type: 'string',
      value: 'DIR',
      defaultText: 'train the base from nothing',
      description: 'read the base from a model folder of ours (its float32 onnx/model.onnx)',
    },
    out: { type: 'string', value: 'DIR', default: 'public/models/llama-qlora', description: 'the merged model folder' },
    // QLoRA settings other than settings.ts's, to compare on the validation split.
    r: { type: 'string', value: 'N', default: String(QLORA_SETTINGS.r), description: 'LoRA rank' },
    alpha: { type: 'string', value: 'A', default: String(QLORA_SETTINGS.alpha), description: 'LoRA alpha' },
    epochs: { type: 'string', value: 'N', default: String(QLORA_SETTINGS.epochs), description: 'QLoRA epochs' },
    lr: { type: 'string', value: 'RATE', default: String(QLORA_SETTINGS.learningRate), description: 'QLoRA learning rate' },
    'token-dropout': {
      type: 'string',
      value: 'P',
      default: String(QLORA_SETTINGS.tokenDropout),
      description: 'QLoRA token dropout rate',
    },
    // For smoke runs: stop each training step after N updates.
    steps: { type: 'string', value: 'N', defaultText: 'full runs', description: 'smoke run: N updates per step, 50 rows per evaluation' },
  },
  examples: [
    'npm run train:llama',
    'npm run train:llama -- --stage merge',
    'npm run train:llama -- --steps 20 --work /tmp/llama --out /tmp/llama-out',
  ],
});

runCli(async () => {
  const { values } = command.parse();
  const stage = values.stage;
  const run = (s: Stage) => stage === 'all' || stage === s;
  const maxSteps = values.steps === undefined ? undefined : positiveInt(values.steps, 'steps', 1);
  await tf.setBackend('wasm');
  await tf.ready();
  if (run('base')) await (values['base-from'] ? baseFromModel(values.work!, values['base-from']) : trainBase(values.work!, maxSteps));
  if (run('qlora'))
    await trainAdapter(
      values.work!,
      {
        ...QLORA_SETTINGS,
        r: positiveInt(values.r, 'r', QLORA_SETTINGS.r),
        alpha: positiveNumber(values.alpha, 'alpha', QLORA_SETTINGS.alpha),
        epochs: positiveInt(values.epochs, 'epochs', QLORA_SETTINGS.epochs),
        learningRate: positiveNumber(values.lr, 'lr', QLORA_SETTINGS.learningRate),
        tokenDropout: positiveNumber(values['token-dropout'], 'token-dropout', QLORA_SETTINGS.tokenDropout),
      },
      maxSteps,
    );
  if (run('merge')) await mergeAndReport(values.work!, values.out!, process.argv.slice(2), maxSteps && 50);
});
