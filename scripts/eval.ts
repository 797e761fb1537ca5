/**
 * npm run eval -- --model custom [--data data/banking77/test.csv] [--model-dir DIR] [--limit N] [--batch-size 32] [--json]
 * npm run eval -- --model llama-qlora [--llama-dir DIR] [--limit N] [--json]
 *   [--typos SEED]        every message gets 1-2 seeded typos (words of 4+ letters) before it is classified
 *   [--negatives]         adds the bundled held-out out-of-scope rows (never trained on or used for a choice)
 *   [--oos-threshold N]   out-of-scope threshold (0 = off); default: the model's own
 * Accuracy (out_of_scope answers to in-scope rows count wrong), in-scope accuracy with rejection
 * off, macro-F1, per-intent F1, confused pairs, calibration, latency, (custom) batched throughput,
 * and, where the data has rows labelled out_of_scope, the rejection rates, AUROC and the curve.
 * The Llama decodes one message at a time, so it has no batched figure.
 * With --json the last line is one JSON object.
 */
import { parseArgs } from 'node:util';
import { evaluate } from '../src/bench/evaluate';
import { checkOosThreshold } from '../src/core/config';
import { OUT_OF_SCOPE } from '../src/core/labels';
import { readLabelledCsv } from '../src/training/data';
import { loadNegatives } from '../src/training/negatives';
import { perturbText } from '../src/training/typos';
import { loadNodeClassifier } from './lib/classifiers';
import { positiveInt, runCli } from './lib/cli';

const pct = (x: number | null) => (x === null ? 'n/a' : `${(100 * x).toFixed(2)}%`);

runCli(async () => {
  const { values } = parseArgs({
    options: {
      model: { type: 'string', default: 'custom' },
      data: { type: 'string', default: 'data/banking77/test.csv' },
      'model-dir': { type: 'string' },
      'llama-dir': { type: 'string' },
      limit: { type: 'string' },
      'batch-size': { type: 'string' },
      typos: { type: 'string' },
      negatives: { type: 'boolean', default: false },
      'oos-threshold': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const rows = readLabelledCsv(values.data);
  const limited = rows.slice(0, positiveInt(values.limit, 'limit', rows.length));
  const typoSeed = values.typos === undefined ? undefined : positiveInt(values.typos, 'typos', 1);
  const data = [
    ...limited.map((r, i) => (typoSeed === undefined ? r : { ...r, text: perturbText(r.text, typoSeed, i) })),
    ...(values.negatives ? loadNegatives().test : []),
  ];
  const oosThreshold =
    values['oos-threshold'] === undefined ? undefined : checkOosThreshold(Number(values['oos-threshold']), values['oos-threshold']);
  const llama = values.model === 'llama-qlora';
  if (llama && values['model-dir'] !== undefined)
    throw new Error("--model-dir is the custom model's folder: pass the Llama's as --llama-dir");
  if (!llama && values['llama-dir'] !== undefined) throw new Error('--llama-dir is for --model llama-qlora');
  const engine = await loadNodeClassifier(values.model, llama ? values['llama-dir'] : values['model-dir']);
  const unknown = [...new Set(data.map((r) => r.label))].filter((l) => l !== OUT_OF_SCOPE && !engine.labels.includes(l));
  if (unknown.length > 0) throw new Error(`${values.data} has labels the model does not know: ${unknown.slice(0, 5).join(', ')}`);
  const progress = (done: number) => process.stderr.write(`\r${done}/${data.length}`);
  const report = await evaluate(engine, data, {
    batchSize: positiveInt(values['batch-size'], 'batch-size', 32),
    onProgress: progress,
    oosThreshold,
  });
  report.out_of_scope.threshold = oosThreshold ?? engine.oosThreshold;
  process.stderr.write('\r');
  await engine.dispose();

  const oos = report.out_of_scope;
  const worst = Object.entries(report.per_intent_f1).sort((a, b) => a[1] - b[1]);
  const what = [
    typoSeed === undefined ? '' : ` with typos (seed ${typoSeed})`,
    values.negatives ? ` + ${oos.n_oos} held-out out-of-scope rows` : '',
  ];
  console.log(`model ${report.model} on ${report.device}, ${values.data}${what.join('')}: ${report.n} rows`);
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
  if (values.json) console.log(JSON.stringify(report));
});
