/**
 * npx tsx scripts/reexport-custom.ts [--model-dir public/models/custom] [--data data/banking77/test.csv] [--dry-run]
 *
 * Rewrites a custom model folder's `model.onnx` in the graph layout that `onnx-export.ts` writes
 * now, from the weights already in the file, without training: the int8 values and scales are
 * copied bit for bit (`readStoredEnsemble`), the metadata (labels) is kept, and config.json,
 * tokenizer.json and the temperature are not touched. Reads either layout, so it also brings an
 * older folder (one stack of operators per member) up to date.
 *
 * Before it writes, it runs the old and the new file side by side in onnxruntime-node on every row
 * of --data and refuses to write unless the probabilities agree to 1e-3 and every row's best label
 * is the same. Then it writes `model.onnx` and the folder's `manifest.json` (the engines refuse a
 * file that does not match it). --dry-run compares and reports without writing.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { writeModelManifest } from '../src/engine/model-manifest-node';
import { SESSION_OPTIONS } from '../src/engine/session-options';
import { parseModelConfig } from '../src/models/custom/config';
import { exportStoredEnsemble } from '../src/models/custom/onnx-export';
import { readStoredEnsemble } from '../src/models/custom/onnx-weights';
import { WordPieceTokenizer, type WordPieceJson } from '../src/tokenizer/wordpiece';
import { readLabelledCsv } from '../src/training/data';
import { defineCommand, requireDir, requireFile, runCli } from './lib/cli';

/** The most any probability may move; the parity tests hold the graph to the same bound. */
const TOLERANCE = 1e-3;
const BATCH = 64;

const command = defineCommand({
  command: 'npx tsx scripts/reexport-custom.ts',
  summary: `Rewrites a custom model folder's model.onnx in the graph layout onnx-export.ts writes now, from the weights
    already in the file, without training. Before it writes, it runs the old and the new file side by side on every row
    of --data and refuses unless the probabilities agree to 1e-3 and every best label is the same; then it writes
    model.onnx and manifest.json.`,
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
  const config = parseModelConfig(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')));
  const tokenizer = new WordPieceTokenizer(JSON.parse(readFileSync(join(dir, config.files.tokenizer), 'utf8')) as WordPieceJson);
  const modelPath = join(dir, config.files.model);
  const before = new Uint8Array(readFileSync(modelPath));

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
  writeFileSync(modelPath, after);
  writeModelManifest(dir);
  console.log(`wrote ${modelPath} and ${join(dir, 'manifest.json')}`);
});

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
