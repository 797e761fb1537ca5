import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EncoderShape } from '../../src/models/custom/config';
import { EncoderClassifier, initWeights, type NamedWeights } from '../../src/models/custom/model';
import { exportEnsembleToOnnx } from '../../src/models/custom/onnx-export';
import { roundTripInt8 } from '../../src/models/custom/quantize';
import { SESSION_OPTIONS } from '../../src/engine/session-options';
import { mulberry32 } from '../../src/models/custom/random';

const shape: EncoderShape = { vocabSize: 50, maxTokens: 12, dModel: 16, heads: 4, layers: 2, ffn: 24, numLabels: 5 };

/** Random weights with non-trivial LayerNorm gains and biases, so every parameter matters. */
function randomWeights(seed: number): NamedWeights {
  const w = initWeights(shape, seed);
  const r = mulberry32(seed + 1);
  for (const [name, t] of Object.entries(w)) {
    const scale = t.shape.length === 2 ? 10 : 0.5; // N(0, 0.2) matrices: activations far from linear
    for (let i = 0; i < t.data.length; i++)
      t.data[i] = name.endsWith('.gamma') ? 1 + (r() - 0.5) : t.shape.length === 2 ? t.data[i]! * scale : (r() - 0.5) * scale;
  }
  return w;
}

function tfLogits(members: NamedWeights[], ids: number[][], temperature: number): Float32Array {
  const time = ids[0]!.length;
  const idsT = tf.tensor2d(ids.flat(), [ids.length, time], 'int32');
  const mask = tf.tensor2d(
    ids.flat().map((id) => (id === 0 ? 0 : 1)),
    [ids.length, time],
  );
  const sum = tf.tidy(() =>
    members
      .map((w) => new EncoderClassifier(shape, w))
      .map((m) => m.forward(idsT, mask))
      .reduce((a, b) => a.add(b))
      .div(members.length * temperature),
  );
  return sum.dataSync() as Float32Array;
}

async function ortLogits(bytes: Uint8Array, ids: number[][]): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes, SESSION_OPTIONS);
  const time = ids[0]!.length;
  const flat = ids.flat();
  const out = await session.run({
    input_ids: new ort.Tensor('int64', BigInt64Array.from(flat.map(BigInt)), [ids.length, time]),
    attention_mask: new ort.Tensor('int64', BigInt64Array.from(flat.map((id) => BigInt(id === 0 ? 0 : 1))), [ids.length, time]),
  });
  await session.release();
  return out.logits!.data as Float32Array;
}

// Rows of different lengths, right-padded with 0: padding must not change the answer.
const ids = [
  [5, 9, 13, 2, 44, 0, 0, 0],
  [7, 7, 7, 7, 7, 7, 7, 7],
  [49, 0, 0, 0, 0, 0, 0, 0],
];

describe('ONNX export matches the tfjs model', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
  });

  it('fp32 export: logits agree to 1e-4 for a two-member ensemble with temperature', async () => {
    const members = [randomWeights(1), randomWeights(2)];
    const expected = tfLogits(members, ids, 1.7);
    const actual = await ortLogits(exportEnsembleToOnnx({ shape, members, temperature: 1.7, weights: 'fp32' }), ids);
    expect(Math.max(...expected.map((e, i) => Math.abs(e - actual[i]!)))).toBeLessThan(1e-4);
    expect(Math.max(...expected.map(Math.abs))).toBeGreaterThan(0.1); // not trivially zero
  });

  it('int8 export equals the tfjs model run on the int8 round-tripped weights', async () => {
    const members = [randomWeights(3)];
    const expected = tfLogits(members.map(roundTripInt8), ids, 1);
    const actual = await ortLogits(exportEnsembleToOnnx({ shape, members, temperature: 1, weights: 'int8' }), ids);
    expect(Math.max(...expected.map((e, i) => Math.abs(e - actual[i]!)))).toBeLessThan(1e-4);
  });

  it('padding does not change a row’s logits', async () => {
    const bytes = exportEnsembleToOnnx({ shape, members: [randomWeights(4)], temperature: 1, weights: 'fp32' });
    const short = await ortLogits(bytes, [[5, 9, 13]]);
    const padded = await ortLogits(bytes, [[5, 9, 13, 0, 0, 0]]);
    expect(Math.max(...short.map((e, i) => Math.abs(e - padded[i]!)))).toBeLessThan(1e-5);
  });
});
