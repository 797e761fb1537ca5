/**
 * npm run eval -- --model custom [--data data/banking77/test.csv] [--model-dir DIR] [--limit N] [--batch-size 32] [--json]
 * npm run eval -- --model llama-qlora [--llama-dir DIR] [--limit N] [--json]
 * Accuracy, macro-F1, per-intent F1, confused pairs, calibration, latency and (custom) batched
 * throughput. The Llama decodes one message at a time, so it has no batched figure.
 * With --json the last line is one JSON object.
 */
import { parseArgs } from 'node:util';
import { evaluate } from '../src/bench/evaluate';
import { readLabelledCsv } from '../src/training/data';
import { loadNodeClassifier } from './lib/classifiers';
import { positiveInt, runCli } from './lib/cli';

runCli(async () => {
  const { values } = parseArgs({
    options: {
      model: { type: 'string', default: 'custom' },
      data: { type: 'string', default: 'data/banking77/test.csv' },
      'model-dir': { type: 'string' },
      'llama-dir': { type: 'string' },
      limit: { type: 'string' },
      'batch-size': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const rows = readLabelledCsv(values.data);
  const limited = rows.slice(0, positiveInt(values.limit, 'limit', rows.length));
  const llama = values.model === 'llama-qlora';
  if (llama && values['model-dir'] !== undefined)
    throw new Error("--model-dir is the custom model's folder: pass the Llama's as --llama-dir");
  if (!llama && values['llama-dir'] !== undefined) throw new Error('--llama-dir is for --model llama-qlora');
  const engine = await loadNodeClassifier(values.model, llama ? values['llama-dir'] : values['model-dir']);
  const unknown = [...new Set(limited.map((r) => r.label))].filter((l) => !engine.labels.includes(l));
  if (unknown.length > 0) throw new Error(`${values.data} has labels the model does not know: ${unknown.slice(0, 5).join(', ')}`);
  const progress = (done: number) => process.stderr.write(`\r${done}/${limited.length}`);
  const report = await evaluate(engine, limited, { batchSize: positiveInt(values['batch-size'], 'batch-size', 32), onProgress: progress });
  process.stderr.write('\r');
  await engine.dispose();

  const worst = Object.entries(report.per_intent_f1).sort((a, b) => a[1] - b[1]);
  console.log(`model ${report.model} on ${report.device}, ${values.data}: ${report.n} rows`);
  console.log(`accuracy   ${(100 * report.accuracy).toFixed(2)}%`);
  console.log(`macro-F1   ${(100 * report.macro_f1).toFixed(2)}%`);
  console.log(`ECE        ${report.ece.toFixed(4)} (15 bins)`);
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
