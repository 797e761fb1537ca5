/**
 * npm run eval -- --model custom [--data data/banking77/test.csv] [--model-dir DIR] [--limit N] [--seed 1] [--json]
 * npm run eval -- --model llama-qlora [--llama-dir DIR] [--limit N] [--json]
 * Every option, with its default: `npm run eval -- --help`.
 *
 * Accuracy (out_of_scope answers to in-scope rows count wrong), in-scope accuracy with rejection
 * off, macro-F1, per-intent F1, confused pairs, calibration, latency, (custom) batched throughput,
 * and, where the data has rows labelled out_of_scope, the rejection rates, AUROC and the curve.
 * The Llama decodes one message at a time, so it has no batched figure. `--limit N` evaluates a
 * sample of N rows stratified by label and seeded (`--seed`), reported as `sample` in the JSON.
 * With --json the last line is one JSON object.
 */
import { evaluate, type Classifier } from '../src/bench/evaluate';
import { checkOosThreshold } from '../src/core/config';
import { OUT_OF_SCOPE } from '../src/core/labels';
import { readLabelledCsv } from '../src/training/data';
import { loadNegatives } from '../src/training/negatives';
import { perturbText } from '../src/training/typos';
import { loadNodeClassifier, NODE_MODELS } from './lib/classifiers';
import { defineCommand, numberFlag, positiveInt, requireDir, requireFile, runCli, UsageError } from './lib/cli';
import { startProgress, type Progress } from './lib/progress';
import { stratifiedSample } from './lib/sample';

const pct = (x: number | null) => (x === null ? 'n/a' : `${(100 * x).toFixed(2)}%`);

const DEFAULT_SAMPLE_SEED = 1;

const command = defineCommand({
  command: 'npm run eval --',
  summary: `Evaluates a model on a labelled CSV: accuracy (an out_of_scope answer to an in-scope row counts wrong),
    in-scope accuracy with rejection off, macro-F1, per-intent F1, the most confused pairs, calibration (ECE),
    latency p50/p95/p99 one query at a time and, for custom, throughput in batches; where the data has out_of_scope
    rows, the rejection rates, AUROC and the threshold curve.`,
  options: {
    model: { type: 'string', default: 'custom', choices: NODE_MODELS, description: 'the model to evaluate' },
    data: { type: 'string', value: 'FILE', default: 'data/banking77/test.csv', description: 'a CSV with columns text,label' },
    'model-dir': { type: 'string', value: 'DIR', defaultText: 'public/models/custom', description: "the custom model's folder" },
    'llama-dir': { type: 'string', value: 'DIR', defaultText: 'public/models/llama-qlora', description: "the llama-qlora model's folder" },
    limit: {
      type: 'string',
      value: 'N',
      defaultText: 'every row',
      description: 'evaluate a sample of N rows, stratified by label and seeded (--seed); the JSON reports the rows per label',
    },
    seed: { type: 'string', value: 'N', default: String(DEFAULT_SAMPLE_SEED), description: 'seed of the --limit sample' },
    'batch-size': { type: 'string', value: 'N', default: '32', description: 'batch size of the throughput pass (custom; 1 = no pass)' },
    typos: {
      type: 'string',
      value: 'SEED',
      defaultText: 'off',
      description: 'give every message 1-2 seeded typos (words of 4+ letters) before it is classified',
    },
    negatives: {
      type: 'boolean',
      default: false,
      description: 'add the bundled held-out out-of-scope rows (never trained on or used for a choice)',
    },
    'oos-threshold': { type: 'string', value: 'P', defaultText: "the model's own", description: 'out-of-scope threshold, 0-1 (0 = off)' },
    json: { type: 'boolean', default: false, description: 'end with one JSON object holding the whole report' },
  },
  notes: ['Progress goes to standard error: a bar with the time left on a terminal, otherwise a line at most once a minute.'],
  examples: [
    'npm run eval -- --model custom --json',
    'npm run eval -- --limit 300 --seed 7',
    'npm run eval -- --negatives',
    'npm run eval -- --typos 1',
    'npm run eval -- --model llama-qlora --limit 200',
  ],
});

runCli(async () => {
  const { values } = command.parse();
  const limit = values.limit === undefined ? undefined : positiveInt(values.limit, 'limit', 1);
  const seed = positiveInt(values.seed, 'seed', DEFAULT_SAMPLE_SEED);
  const batchSize = positiveInt(values['batch-size'], 'batch-size', 32);
  const typoSeed = values.typos === undefined ? undefined : positiveInt(values.typos, 'typos', 1);
  const oosThresholdValue = numberFlag(values['oos-threshold']);
  let oosThreshold: number | undefined;
  try {
    oosThreshold = oosThresholdValue === undefined ? undefined : checkOosThreshold(oosThresholdValue, values['oos-threshold']);
  } catch (error) {
    throw new UsageError(`--oos-threshold: ${(error as Error).message}`);
  }
  const llama = values.model === 'llama-qlora';
  if (llama && values['model-dir'] !== undefined)
    throw new Error("--model-dir is the custom model's folder: pass the Llama's as --llama-dir");
  if (!llama && values['llama-dir'] !== undefined) throw new Error('--llama-dir is for --model llama-qlora');
  const modelDir = llama ? values['llama-dir'] : values['model-dir'];
  if (modelDir !== undefined) requireDir(modelDir, llama ? '--llama-dir' : '--model-dir');

  const rows = readLabelledCsv(requireFile(values.data, '--data'));
  const sample = limit === undefined ? undefined : stratifiedSample(rows, limit, seed);
  const limited = sample?.rows ?? rows;
  const data = [
    ...limited.map((r, i) => (typoSeed === undefined ? r : { ...r, text: perturbText(r.text, typoSeed, i) })),
    ...(values.negatives ? loadNegatives().test : []),
  ];
  const engine = await loadNodeClassifier(values.model, modelDir);
  const unknown = [...new Set(data.map((r) => r.label))].filter((l) => l !== OUT_OF_SCOPE && !engine.labels.includes(l));
  if (unknown.length > 0) throw new Error(`${values.data} has labels the model does not know: ${unknown.slice(0, 5).join(', ')}`);
  const batched = engine.classifyBatch !== undefined && batchSize > 1;
  const progress = startProgress({ title: 'eval', total: data.length * (batched ? 2 : 1), unit: 'queries' });
  const report = await evaluate(counting(engine, progress), data, { batchSize, oosThreshold }).finally(() => progress.stop());
  report.out_of_scope.threshold = oosThreshold ?? engine.oosThreshold;
  await engine.dispose();
  const result = sample
    ? { ...report, sample: { limit, seed, strategy: 'stratified by label, seeded', rows: sample.rows.length, per_label: sample.perLabel } }
    : report;

  const oos = report.out_of_scope;
  const worst = Object.entries(report.per_intent_f1).sort((a, b) => a[1] - b[1]);
  const what = [
    typoSeed === undefined ? '' : ` with typos (seed ${typoSeed})`,
    values.negatives ? ` + ${oos.n_oos} held-out out-of-scope rows` : '',
  ];
  const sampled = sample
    ? ` (a sample of ${sample.rows.length}, stratified over ${Object.keys(sample.perLabel).length} labels, seed ${seed})`
    : '';
  console.log(`model ${report.model} on ${report.device}, ${values.data}${sampled}${what.join('')}: ${report.n} rows`);
  console.log(`accuracy   ${pct(report.accuracy)} (out_of_scope threshold ${oos.threshold}; a wrongly rejected row counts wrong)`);
  console.log(
    `in-scope   ${pct(oos.in_scope_accuracy)} with rejection, ${pct(oos.in_scope_accuracy_without_rejection)} without (best in-scope label)`,
  );
  console.log(`macro-F1   ${pct(report.macro_f1)}`);
  console.log(`ECE        ${report.ece.toFixed(4)} (15 bins)`);
  console.log(
    `rejected   ${pct(oos.in_scope_rejected)} of ${oos.n_in_scope} in-scope rows` +
      (oos.n_oos > 0 ? `, ${pct(oos.oos_rejected)} of ${oos.n_oos} out-of-scope rows` : ''),
  );
  if (oos.auroc !== null) {
    console.log(`AUROC      ${oos.auroc.toFixed(4)} (rejection score 1 - best in-scope probability)`);
    console.log('threshold  out-of-scope rejected  in-scope rejected  in-scope accuracy');
    for (const p of oos.curve.filter((_, i) => i % 2 === 0))
      console.log(
        `  ${p.threshold.toFixed(2)}     ${pct(p.oos_rejected).padStart(8)}              ${pct(p.in_scope_rejected).padStart(7)}           ${pct(p.in_scope_accuracy).padStart(7)}`,
      );
  }
  console.log(
    `latency    p50 ${report.p50_ms.toFixed(2)} ms, p95 ${report.p95_ms.toFixed(2)} ms, p99 ${report.p99_ms.toFixed(2)} ms (one query at a time)`,
  );
  if (report.batched_qps) console.log(`throughput ${report.batched_qps.toFixed(0)} queries/s in batches of ${report.batch_size}`);
  console.log(`truncated  ${report.truncated} inputs`);
  console.log('lowest per-intent F1:');
  for (const [label, f1] of worst.slice(0, 8)) console.log(`  ${(100 * f1).toFixed(1).padStart(5)}%  ${label}`);
  console.log('most confused (true -> predicted):');
  for (const p of report.confused_pairs.slice(0, 8)) console.log(`  ${String(p.count).padStart(3)}  ${p.label} -> ${p.predicted}`);
  if (values.json) console.log(JSON.stringify(result));
});

/** `classifier` with every query counted on `progress` (one at a time, then the batches). */
function counting(classifier: Classifier, progress: Progress): Classifier {
  return {
    classify: async (text, options) => {
      const prediction = await classifier.classify(text, options);
      progress.increment();
      return prediction;
    },
    ...(classifier.classifyBatch
      ? {
          classifyBatch: async (texts: string[], options?: Parameters<NonNullable<Classifier['classifyBatch']>>[1]) => {
            const predictions = await classifier.classifyBatch!(texts, options);
            progress.increment(texts.length);
            return predictions;
          },
        }
      : {}),
  };
}
