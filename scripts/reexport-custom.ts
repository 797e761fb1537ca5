/**
 * npx tsx scripts/reexport-custom.ts [--model-dir public/models/custom] [--data data/banking77/test.csv] [--dry-run]
 *
 * Rewrites a custom model folder in the layout the export writes now, from the weights already in
 * its ONNX file, without training: the graph in the layout `onnx-export.ts` writes (the int8
 * values and scales copied bit for bit by `readStoredEnsemble`, the metadata (labels) kept), and
 * the files around it as `src/models/custom/folder-node.ts` lays them out (`onnx/model.onnx`,
 * Hugging Face `tokenizer.json` + `tokenizer_config.json`, `spelling.json`, config.json with the
 * fields transformers.js needs). The labels, vocabulary, word list, temperature and threshold are
 * not changed. Reads either layout, so it also brings an older folder (one stack of operators per
 * member, `model.onnx` and our own tokenizer.json at the top) up to date.
 *
 * Before it writes, it runs the old and the new graph side by side in onnxruntime-node on every row
 * of --data and refuses to write unless the probabilities agree to 1e-3 and every row's best label
 * is the same. Then it writes the folder and its `manifest.json` (the engines refuse a file that
 * does not match it), removes files of the old layout, and, where the folder has a
 * training-report.json, brings its file sizes and MODEL_CARD.md up to date. --dry-run compares and
 * reports without writing.
 */
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { listModelFiles, writeModelManifest } from '../src/engine/model-manifest-node';
import { SESSION_OPTIONS } from '../src/engine/session-options';
import { customModelSettings, readCustomModelFolder, writeCustomModelFolder } from '../src/models/custom/folder-node';
import { exportStoredEnsemble } from '../src/models/custom/onnx-export';
import { readStoredEnsemble } from '../src/models/custom/onnx-weights';
import { readLabelledCsv } from '../src/training/data';
import { writeModelCard } from '../src/training/model-card';
import type { TrainingReport } from '../src/training/training-report';
import { defineCommand, requireDir, requireFile, runCli } from './lib/cli';

/** The most any probability may move; the parity tests hold the graph to the same bound. */
const TOLERANCE = 1e-3;
const BATCH = 64;

const command = defineCommand({
  command: 'npx tsx scripts/reexport-custom.ts',
  summary: `Rewrites a custom model folder in the layout the export writes now (the graph as onnx-export.ts writes it,
    onnx/model.onnx, Hugging Face tokenizer files, spelling.json, config.json with the transformers.js fields), from
    the weights already in its ONNX file, without training. Before it writes, it runs the old and the new graph side by
    side on every row of --data and refuses unless the probabilities agree to 1e-3 and every best label is the same;
    then it writes the folder and manifest.json, and updates training-report.json and MODEL_CARD.md where present.`,
  options: {
    'model-dir': { type: 'string', value: 'DIR', default: 'public/models/custom', description: 'the model folder to rewrite' },
    data: { type: 'string', value: 'FILE', default: 'data/banking77/test.csv', description: 'the rows the two graphs are compared on' },
    'dry-run': { type: 'boolean', default: false, description: 'compare and report without writing' },
  },
  examples: ['npx tsx scripts/reexport-custom.ts --dry-run', 'npx tsx scripts/reexport-custom.ts --model-dir models/my-bank'],
});

runCli(async () => {
  const { values } = command.parse();
  requireDir(values['model-dir'], '--model-dir');
  requireFile(values.data, '--data');
  const dir = values['model-dir'];
  const { config, tokenizer, onnx: before } = readCustomModelFolder(dir);
  const modelPath = join(dir, config.files.model);

  const old = onnxProto.onnx.ModelProto.decode(before);
  const metadata = Object.fromEntries((old.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? '']));
  const after = exportStoredEnsemble({
    shape: config,
    members: readStoredEnsemble(before, config, config.members),
    temperature: config.temperature,
    metadata,
  });
  const nodes = (bytes: Uint8Array) => onnxProto.onnx.ModelProto.decode(bytes).graph?.node?.length ?? 0;
  console.log(
    `${modelPath}: ${nodes(before)} operators, ${before.byteLength} bytes -> ${nodes(after)} operators, ${after.byteLength} bytes`,
  );

  const rows = readLabelledCsv(values.data).map((r) => tokenizer.encode(r.text, config.maxTokens).ids);
  const expected = await probabilities(before, rows, tokenizer.padId);
  const actual = await probabilities(after, rows, tokenizer.padId);
  const n = config.numLabels;
  let maxDiff = 0;
  let argmaxChanged = 0;
  for (let r = 0; r < rows.length; r++) {
    const e = expected.subarray(r * n, (r + 1) * n);
    const a = actual.subarray(r * n, (r + 1) * n);
    e.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - a[i]!))));
    if (argmax(e) !== argmax(a)) argmaxChanged++;
  }
  console.log(
    `${values.data}: ${rows.length} rows, max |probability difference| ${maxDiff.toExponential(2)}, best label changed on ${argmaxChanged}`,
  );
  if (!(maxDiff <= TOLERANCE) || argmaxChanged > 0)
    throw new Error(`the new graph does not compute the same function (tolerance ${TOLERANCE}): nothing written`);
  if (values['dry-run']) return;
  const written = writeCustomModelFolder(dir, { settings: customModelSettings(config), tokenizer, onnx: after });
  // Files the old config named that the new one does not (model.onnx at the top of the folder).
  const stale = namedFiles(config).filter((file) => !namedFiles(written).includes(file));
  for (const file of stale) rmSync(join(dir, file));
  if (stale.length > 0) writeModelManifest(dir);
  console.log(`wrote ${listModelFiles(dir).join(', ')} and manifest.json in ${dir}${stale.length ? `; removed ${stale.join(', ')}` : ''}`);

  // The training record and the model card list the files with their sizes.
  const reportPath = join(dir, 'training-report.json');
  if (!existsSync(reportPath)) return;
  const report = JSON.parse(readFileSync(reportPath, 'utf8')) as TrainingReport;
  report.files = Object.fromEntries(listModelFiles(dir).map((file) => [file, statSync(join(dir, file)).size]));
  writeFileSync(reportPath, JSON.stringify(report, null, 2) + '\n');
  const cardPath = join(dir, 'MODEL_CARD.md');
  // The command that trained the model is not in the report: the card that is there says it.
  const trainCommand = existsSync(cardPath) ? /^- Command: `(.+)` \(seed/m.exec(readFileSync(cardPath, 'utf8'))?.[1] : undefined;
  writeModelCard(cardPath, report, trainCommand ?? 'npm run train', config.weights);
  console.log(`updated ${reportPath} and ${cardPath}`);
});

/** The files a config names (model, tokenizer, spelling list). */
function namedFiles(config: { files: Record<string, string | undefined> }): string[] {
  return Object.values(config.files).filter((file): file is string => file !== undefined);
}

/** Probabilities for every row, `[rows, labels]` flattened, in batches padded to their longest row. */
async function probabilities(model: Uint8Array, rows: number[][], padId: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(model, SESSION_OPTIONS);
  const chunks: Float32Array[] = [];
  try {
    for (let start = 0; start < rows.length; start += BATCH) {
      const batch = rows.slice(start, start + BATCH);
      const time = Math.max(1, ...batch.map((r) => r.length));
      const ids = new BigInt64Array(batch.length * time).fill(BigInt(padId));
      const mask = new BigInt64Array(batch.length * time);
      batch.forEach((r, b) =>
        r.forEach((id, t) => {
          ids[b * time + t] = BigInt(id);
          mask[b * time + t] = 1n;
        }),
      );
      const out = await session.run({
        input_ids: new ort.Tensor('int64', ids, [batch.length, time]),
        attention_mask: new ort.Tensor('int64', mask, [batch.length, time]),
      });
      chunks.push((out.probabilities!.data as Float32Array).slice());
    }
  } finally {
    await session.release();
  }
  const all = new Float32Array(chunks.reduce((s, c) => s + c.length, 0));
  chunks.reduce((offset, c) => (all.set(c, offset), offset + c.length), 0);
  return all;
}

function argmax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}
