/**
 * The ONNX export (all members stacked in one graph) against the tfjs model it was written from,
 * on small random models: fp32 and int8, several members, padding; and the weights read back out
 * of a file, in the stacked layout and in the earlier one-stack-per-member layout.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EncoderShape } from '../../src/models/custom/config';
import { EncoderClassifier, initWeights, type NamedWeights } from '../../src/models/custom/model';
import { exportEnsembleToOnnx, exportStoredEnsemble } from '../../src/models/custom/onnx-export';
import { readEnsembleWeights, readStoredEnsemble } from '../../src/models/custom/onnx-weights';
import { isQuantized, roundTripInt8, storeWeights } from '../../src/models/custom/quantize';
import { DataType, GraphBuilder } from '../../src/models/onnx/graph-builder';
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
    const members = [randomWeights(3), randomWeights(5), randomWeights(6)];
    const expected = tfLogits(members.map(roundTripInt8), ids, 0.8);
    const actual = await ortLogits(exportEnsembleToOnnx({ shape, members, temperature: 0.8, weights: 'int8' }), ids);
    expect(Math.max(...expected.map((e, i) => Math.abs(e - actual[i]!)))).toBeLessThan(1e-4);
  });

  it('runs the members together: the graph has as many operators for five members as for one', () => {
    const count = (n: number) =>
      onnxProto.onnx.ModelProto.decode(
        exportEnsembleToOnnx({
          shape,
          members: Array.from({ length: n }, (_, i) => randomWeights(10 + i)),
          temperature: 1,
          weights: 'int8',
        }),
      ).graph!.node!.length;
    expect(count(5)).toBe(count(1));
  });

  it('padding does not change a row’s logits', async () => {
    const bytes = exportEnsembleToOnnx({ shape, members: [randomWeights(4)], temperature: 1, weights: 'fp32' });
    const short = await ortLogits(bytes, [[5, 9, 13]]);
    const padded = await ortLogits(bytes, [[5, 9, 13, 0, 0, 0]]);
    expect(Math.max(...short.map((e, i) => Math.abs(e - padded[i]!)))).toBeLessThan(1e-5);
  });
});

describe('weights read back out of an exported file', () => {
  const members = [randomWeights(7), randomWeights(8)];

  it('int8: the stored values and scales come back bit for bit, and a re-export writes the same file', () => {
    const bytes = exportEnsembleToOnnx({ shape, members, temperature: 1.3, weights: 'int8' });
    const stored = readStoredEnsemble(bytes, shape, 2);
    expect(stored).toEqual(members.map((w) => storeWeights(w, 'int8')));
    expect(exportStoredEnsemble({ shape, members: stored, temperature: 1.3 })).toEqual(bytes);
    expect(readEnsembleWeights(bytes, shape, 2)).toEqual(members.map(roundTripInt8));
  });

  it('fp32: the weights come back as written', () => {
    const bytes = exportEnsembleToOnnx({ shape, members, temperature: 1, weights: 'fp32' });
    expect(readEnsembleWeights(bytes, shape, 2)).toEqual(members);
  });

  it('reads the earlier layout (an initializer per member, m<i>.<name>) the same way', () => {
    const expected = members.map((w) => storeWeights(w, 'int8'));
    const g = new GraphBuilder('earlier_layout');
    expected.forEach((member, m) => {
      for (const [name, w] of Object.entries(member)) {
        if (isQuantized(w)) {
          g.initializer(`m${m}.${name}.int8`, w.values, w.shape);
          g.initializer(`m${m}.${name}.scale`, w.scales, [w.scales.length]);
        } else g.initializer(`m${m}.${name}`, w.data, w.shape);
      }
    });
    g.input('input_ids', DataType.INT64, ['batch', 'sequence']);
    expect(readStoredEnsemble(g.toBytes({ '': 17 }), shape, 2)).toEqual(expected);
  });
});
