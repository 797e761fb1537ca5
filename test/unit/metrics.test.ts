import { describe, expect, it } from 'vitest';
import { accuracy, confusedPairs, expectedCalibrationError, macroF1, percentile } from '../../src/bench/metrics';
import { fitTemperature, nll } from '../../src/training/calibrate';
import { mulberry32, normalSampler } from '../../src/models/custom/random';

const rows = [
  { label: 'a', predicted: 'a', confidence: 0.9 },
  { label: 'a', predicted: 'b', confidence: 0.6 },
  { label: 'b', predicted: 'b', confidence: 0.8 },
  { label: 'c', predicted: 'b', confidence: 0.7 },
];

describe('metrics', () => {
  it('accuracy and macro-F1 match a hand computation', () => {
    expect(accuracy(rows)).toBe(0.5);
    // a: P=1 R=.5 F1=2/3; b: P=1/3 R=1 F1=.5; c: 0 -> mean 7/18
    expect(macroF1(rows)).toBeCloseTo(7 / 18, 10);
  });

  it('ECE is the weighted gap between confidence and accuracy per bin', () => {
    // two bins: all four rows land in [0.5, 1): accuracy .5, mean confidence .75
    expect(expectedCalibrationError(rows, 2)).toBeCloseTo(0.25, 10);
    // ten bins: one row each; gaps .6, .7 (wrong) and .2, .1 (right), each weighted 1/4
    expect(expectedCalibrationError(rows, 10)).toBeCloseTo(0.4, 10);
    expect(expectedCalibrationError([{ label: 'a', predicted: 'a', confidence: 1 }])).toBe(0);
  });

  it('lists the most confused pairs first', () => {
    expect(confusedPairs([...rows, rows[1]!])[0]).toEqual({ label: 'a', predicted: 'b', count: 2 });
  });

  it('percentiles interpolate between ranks', () => {
    expect(percentile([1, 2, 3, 4, 5], 50)).toBe(3);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([10, 1], 100)).toBe(10);
  });
});

describe('temperature scaling', () => {
  it('recovers the temperature that generated the labels', () => {
    const random = mulberry32(7);
    const normal = normalSampler(random);
    const k = 5;
    const n = 4000;
    const trueT = 2.5;
    const logits = new Float32Array(n * k);
    const labels: number[] = [];
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < k; j++) logits[i * k + j] = 3 * normal();
      // sample the label from softmax(logits / trueT)
      const row = Array.from(logits.subarray(i * k, (i + 1) * k), (v) => Math.exp(v / trueT));
      const total = row.reduce((a, b) => a + b);
      let u = random() * total;
      let label = 0;
      while (u > row[label]! && label < k - 1) u -= row[label++]!;
      labels.push(label);
    }
    const fitted = fitTemperature(logits, labels, k);
    expect(fitted).toBeGreaterThan(2.2);
    expect(fitted).toBeLessThan(2.8);
    expect(nll(logits, labels, k, fitted)).toBeLessThan(nll(logits, labels, k, 1));
  });
});
