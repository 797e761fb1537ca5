/**
 * npm run train -- [--data data/banking77/train.csv] [--out public/models/custom] [--test FILE]
 *                  [--members 5] [--epochs 16] [--seed N] [--vocab-size 3000] [--parallel 2] [--weights int8|fp32]
 *                  [--no-negatives]
 *
 * Trains the custom model from a CSV with columns `text,label` (Banking77's `text,category` works
 * too); the label set comes from the data. Rows labelled `out_of_scope` are negative examples, and
 * the bundled ones (HWU64, SNIPS, generated) are added unless --no-negatives. Finished members are cached in --cache-dir, so an
 * interrupted run resumes where it stopped.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { DEFAULT_SETTINGS } from '../src/training/prepare';
import { runTraining } from '../src/training/run-training';
import { positiveInt, positiveNumber, runCli } from './lib/cli';

const BANKING77_TRAIN = 'data/banking77/train.csv';
const BANKING77_TEST = 'data/banking77/test.csv';

runCli(async () => {
  const { values } = parseArgs({
    options: {
      data: { type: 'string', default: BANKING77_TRAIN },
      out: { type: 'string', default: 'public/models/custom' },
      test: { type: 'string' },
      'cache-dir': { type: 'string', default: '.cache/train' },
      members: { type: 'string' },
      epochs: { type: 'string' },
      seed: { type: 'string' },
      'vocab-size': { type: 'string' },
      'batch-size': { type: 'string' },
      lr: { type: 'string' },
      parallel: { type: 'string' },
      weights: { type: 'string', default: 'int8' },
      'no-negatives': { type: 'boolean', default: false },
    },
  });
  if (values.weights !== 'int8' && values.weights !== 'fp32') throw new Error(`--weights must be int8 or fp32, got "${values.weights}"`);
  const d = DEFAULT_SETTINGS;
  const started = Date.now();
  const report = await runTraining({
    ...d,
    data: values.data,
    seed: positiveInt(values.seed, 'seed', d.seed),
    members: positiveInt(values.members, 'members', d.members),
    epochs: positiveInt(values.epochs, 'epochs', d.epochs),
    vocabSize: positiveInt(values['vocab-size'], 'vocab-size', d.vocabSize),
    batchSize: positiveInt(values['batch-size'], 'batch-size', d.batchSize),
    learningRate: positiveNumber(values.lr, 'lr', d.learningRate),
    out: values.out,
    cacheDir: values['cache-dir'],
    parallel: positiveInt(values.parallel, 'parallel', availableParallelism()),
    weights: values.weights,
    negatives: !values['no-negatives'],
    typoSeed: 1,
    // Banking77's test split is reported in the model card when training on Banking77's train split.
    test: values.test ?? (values.data === BANKING77_TRAIN ? BANKING77_TEST : undefined),
    command: ['npm run train', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' '),
    log: (line) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(5)} s] ${line}`),
  });
  console.log(
    `wrote ${values.out}: ${Object.entries(report.files)
      .map(([f, b]) => `${f} ${(b / 1024).toFixed(0)} KiB`)
      .join(', ')}; see MODEL_CARD.md`,
  );
});
