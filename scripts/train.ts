/**
 * npm run train -- [--data data/banking77/train.csv] [--out DIR] [--force] [--test FILE]
 *                  [--members 5] [--epochs 16] [--seed N] [--vocab-size 3000] [--parallel 2] [--weights int8|fp32]
 *                  [--no-negatives]
 * Every option, with its default: `npm run train -- --help`.
 *
 * Trains the custom model from a CSV with columns `text,label` (Banking77's `text,category` works
 * too); the label set comes from the data. Rows labelled `out_of_scope` are negative examples, and
 * the bundled ones (HWU64, SNIPS, generated) are added unless --no-negatives. Finished members are
 * cached in --cache-dir, so an interrupted run resumes where it stopped.
 *
 * The output goes to a new folder, models/custom-<timestamp>, unless --out says where. It never
 * replaces the bundled model (public/models/custom) without --force: that is refused before any
 * work starts.
 */
import { existsSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { DEFAULT_MODEL_DIR } from '../src/engine/custom-node-engine';
import { DEFAULT_SETTINGS } from '../src/training/prepare';
import { runTraining } from '../src/training/run-training';
import { defineCommand, positiveInt, positiveNumber, requireFile, runCli, UsageError } from './lib/cli';
import { startProgress } from './lib/progress';

const BANKING77_TRAIN = 'data/banking77/train.csv';
const BANKING77_TEST = 'data/banking77/test.csv';
const d = DEFAULT_SETTINGS;

/** A new folder per run, e.g. models/custom-20260102-134501. */
function defaultOutDir(now = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}-${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`;
  return `models/custom-${stamp}`;
}

const command = defineCommand({
  command: 'npm run train --',
  summary: `Trains the custom model (an ensemble of small Transformers, calibrated, exported to int8 ONNX) from a CSV
    with columns text,label (Banking77's text,category works too); the label set comes from the data. Rows labelled
    out_of_scope are negative examples; the bundled ones are added unless --no-negatives.

    Writes a model folder (config.json, onnx/model.onnx, tokenizer files, manifest.json, MODEL_CARD.md) that the site,
    the widget and the other commands load with --model-dir DIR, and transformers.js as a text-classification model.
    Finished members are cached in --cache-dir, so an interrupted run resumes. The bundled model public/models/custom is replaced only with --force.`,
  options: {
    data: { type: 'string', value: 'FILE', default: BANKING77_TRAIN, description: 'the training CSV (text,label)' },
    out: {
      type: 'string',
      value: 'DIR',
      defaultText: 'a new folder models/custom-<date>-<time>',
      description: 'where to write the model',
    },
    force: {
      type: 'boolean',
      default: false,
      description: `allow --out ${DEFAULT_MODEL_DIR}, replacing the bundled model (or any folder that already holds a model)`,
    },
    test: {
      type: 'string',
      value: 'FILE',
      defaultText: `${BANKING77_TEST} when --data is ${BANKING77_TRAIN}, else none`,
      description: 'a held-out CSV reported in the model card (never used for any choice)',
    },
    'cache-dir': { type: 'string', value: 'DIR', default: '.cache/train', description: 'finished members, for resuming' },
    members: { type: 'string', value: 'N', default: String(d.members), description: 'ensemble members (each from its own seed)' },
    epochs: { type: 'string', value: 'N', default: String(d.epochs), description: 'epochs per member (the best epoch is kept)' },
    seed: { type: 'string', value: 'N', default: String(d.seed), description: 'seed of the split, the data order and member 1' },
    'vocab-size': { type: 'string', value: 'N', default: String(d.vocabSize), description: 'WordPiece vocabulary size' },
    'batch-size': { type: 'string', value: 'N', default: String(d.batchSize), description: 'training batch size' },
    lr: { type: 'string', value: 'RATE', default: String(d.learningRate), description: 'peak learning rate (AdamW)' },
    parallel: { type: 'string', value: 'N', defaultText: 'the number of cores', description: 'members trained at once, one process each' },
    weights: { type: 'string', default: 'int8', choices: ['int8', 'fp32'], description: 'weights in model.onnx' },
    'no-negatives': { type: 'boolean', default: false, description: 'do not add the bundled out-of-scope examples' },
  },
  notes: ['Progress (epochs of all members, with the time left) goes to standard error; on a terminal it is a bar.'],
  examples: [
    'npm run train',
    'npm run train -- --data my-intents.csv --out models/my-bank',
    'npm run train -- --members 1 --epochs 2 --out /tmp/smoke',
    `npm run train -- --out ${DEFAULT_MODEL_DIR} --force`,
  ],
});

runCli(async () => {
  const { values } = command.parse();
  const settings = {
    seed: positiveInt(values.seed, 'seed', d.seed),
    members: positiveInt(values.members, 'members', d.members),
    epochs: positiveInt(values.epochs, 'epochs', d.epochs),
    vocabSize: positiveInt(values['vocab-size'], 'vocab-size', d.vocabSize),
    batchSize: positiveInt(values['batch-size'], 'batch-size', d.batchSize),
    learningRate: positiveNumber(values.lr, 'lr', d.learningRate),
    parallel: positiveInt(values.parallel, 'parallel', availableParallelism()),
  };
  const out = values.out ?? defaultOutDir();
  // Refused before any work: a first try must never replace the bundled model during a long run.
  if (resolve(out) === resolve(DEFAULT_MODEL_DIR) && !values.force)
    throw new UsageError(
      `refusing to overwrite the bundled model in ${DEFAULT_MODEL_DIR}: pass --force to replace it, or write elsewhere with --out DIR`,
    );
  if (values.out !== undefined && !values.force && holdsModel(out))
    throw new UsageError(`${out} already holds a model: pass --force to replace it, or choose another --out`);
  requireFile(values.data, '--data');
  const test = values.test ?? (values.data === BANKING77_TRAIN ? BANKING77_TEST : undefined);
  if (test !== undefined) requireFile(test, '--test');

  const started = Date.now();
  const progress = startProgress({ title: 'train', total: settings.members * settings.epochs, unit: 'epochs' });
  const log = (line: string) => {
    const stamped = `[${((Date.now() - started) / 1000).toFixed(0).padStart(5)} s] ${line}`;
    // Member processes log one line per epoch ("seed N epoch k/E ..."), or reuse a cached member.
    if (/^seed \d+ epoch \d+\/\d+/.test(line)) progress.increment();
    else if (/^seed \d+: reusing /.test(line)) progress.increment(settings.epochs);
    progress.log(stamped);
    if (progress.done >= progress.total) progress.stop();
  };
  console.log(`training into ${out}`);
  const report = await runTraining({
    ...d,
    ...settings,
    data: values.data,
    out,
    cacheDir: values['cache-dir'],
    weights: values.weights as 'int8' | 'fp32',
    negatives: !values['no-negatives'],
    typoSeed: 1,
    // Banking77's test split is reported in the model card when training on Banking77's train split.
    test,
    command: ['npm run train', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' '),
    log,
  }).finally(() => progress.stop());
  console.log(
    `wrote ${out}: ${Object.entries(report.files)
      .map(([f, b]) => `${f} ${(b / 1024).toFixed(0)} KiB`)
      .join(', ')}; see ${join(out, 'MODEL_CARD.md')}`,
  );
  console.log(`use it with: npm run classify -- --model-dir ${out} "my card has not arrived"`);
});

/** A folder with a model's files in it (config.json or model.onnx). */
function holdsModel(dir: string): boolean {
  return existsSync(dir) && readdirSync(dir).some((file) => file === 'config.json' || file === 'model.onnx');
}
