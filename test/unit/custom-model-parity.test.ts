/**
 * The shipped model: the tfjs forward pass (the training framework), run on the weights read back
 * out of public/models/custom/model.onnx, against onnxruntime on that file, on every row of the
 * Banking77 test split. The issue asks for max |logit difference| <= 1e-3 and the same argmax.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { SESSION_OPTIONS } from '../../src/engine/session-options';
import { parseModelConfig } from '../../src/models/custom/config';
import { EncoderClassifier } from '../../src/models/custom/model';
import { readEnsembleWeights } from '../../src/models/custom/onnx-weights';
import { WordPieceTokenizer } from '../../src/tokenizer/wordpiece';
import { readLabelledCsv } from '../../src/training/data';
import { makeBatch } from '../../src/training/batches';

const dir = 'public/models/custom';
const config = parseModelConfig(JSON.parse(readFileSync(`${dir}/config.json`, 'utf8')));
const tokenizer = new WordPieceTokenizer(JSON.parse(readFileSync(`${dir}/tokenizer.json`, 'utf8')));
const bytes = new Uint8Array(readFileSync(`${dir}/model.onnx`));

describe('shipped custom model: tfjs and onnxruntime agree on the Banking77 test split', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
  });

  it('max |logit difference| <= 1e-3 and the same argmax on all 3,080 rows', async () => {
    const rows = readLabelledCsv('data/banking77/test.csv').map((r) => ({ ids: tokenizer.encode(r.text, config.maxTokens).ids, label: 0 }));
    expect(rows).toHaveLength(3080);
    const members = readEnsembleWeights(bytes, config, config.members).map((w) => new EncoderClassifier(config, w));
    const session = await ort.InferenceSession.create(bytes, SESSION_OPTIONS);
    let maxDiff = 0;
    let argmaxMismatches = 0;
    const batchSize = 160;
    for (let start = 0; start < rows.length; start += batchSize) {
      const batch = makeBatch(rows.slice(start, start + batchSize), tokenizer.padId, config.numLabels);
      const reference = tf.tidy(() =>
        members
          .map((m) => m.forward(batch.ids, batch.mask))
          .reduce((a, b) => a.add(b))
          .div(config.members * config.temperature),
      );
      const expected = reference.dataSync() as Float32Array;
      const [n, time] = batch.ids.shape;
      const out = await session.run({
        input_ids: new ort.Tensor(
          'int64',
          BigInt64Array.from(batch.ids.dataSync(), (v) => BigInt(v)),
          [n, time],
        ),
        attention_mask: new ort.Tensor(
          'int64',
          BigInt64Array.from(batch.mask.dataSync(), (v) => BigInt(v)),
          [n, time],
        ),
      });
      const actual = out.logits!.data as Float32Array;
      for (let r = 0; r < n; r++) {
        const e = expected.subarray(r * config.numLabels, (r + 1) * config.numLabels);
        const a = actual.subarray(r * config.numLabels, (r + 1) * config.numLabels);
        e.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - a[i]!))));
        if (e.indexOf(Math.max(...e)) !== a.indexOf(Math.max(...a))) argmaxMismatches++;
      }
      tf.dispose([reference, batch.ids, batch.mask, batch.oneHot]);
    }
    await session.release();
    members.forEach((m) => m.dispose());
    console.log(`parity on 3080 rows: max |diff| ${maxDiff.toExponential(2)}, argmax mismatches ${argmaxMismatches}`);
    expect(maxDiff).toBeLessThanOrEqual(1e-3);
    expect(argmaxMismatches).toBe(0);
  });
});
