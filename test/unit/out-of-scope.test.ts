/** The out-of-scope rule, how its threshold is chosen, and how eval measures it. */
import { describe, expect, it } from 'vitest';
import { evaluate, type Classifier } from '../../src/bench/evaluate';
import { auroc } from '../../src/bench/metrics';
import { OUT_OF_SCOPE } from '../../src/core/labels';
import { decide } from '../../src/core/out-of-scope';
import type { ModelPrediction } from '../../src/core/prediction';
import { chooseOosThreshold } from '../../src/training/oos-threshold';

const LABELS = ['card_arrival', 'lost_or_stolen_card', 'exchange_rate', OUT_OF_SCOPE];

describe('decide', () => {
  it('answers the best in-scope label when its probability reaches the threshold', () => {
    const d = decide([0.6, 0.1, 0.05, 0.25], LABELS, 2, 0.5);
    expect(d).toEqual({
      intent: 'card_arrival',
      confidence: 0.6,
      top: [
        { intent: 'card_arrival', score: 0.6 },
        { intent: 'lost_or_stolen_card', score: 0.1 },
      ],
    });
  });
  it('answers out_of_scope below it, confidence 1 - best, top still in scope', () => {
    const d = decide([0.2, 0.1, 0.05, 0.65], LABELS, 5, 0.5);
    expect(d.intent).toBe(OUT_OF_SCOPE);
    expect(d.confidence).toBeCloseTo(0.8, 10);
    expect(d.top.map((t) => t.intent)).toEqual(['card_arrival', 'lost_or_stolen_card', 'exchange_rate']);
  });
  it('never rejects at threshold 0, even when the out_of_scope class is the most probable', () => {
    expect(decide([0.2, 0.1, 0.05, 0.65], LABELS, 1, 0).intent).toBe('card_arrival');
  });
});

describe('chooseOosThreshold', () => {
  it('takes the highest threshold within the in-scope budget', () => {
    const labels = [...Array(100).fill('card_arrival'), ...Array(10).fill(OUT_OF_SCOPE)];
    const inScope = Array.from({ length: 100 }, (_, i) => 0.3 + (0.7 * i) / 100); // 0.3 .. 0.993
    const oos = Array.from({ length: 10 }, (_, i) => 0.1 + 0.03 * i); // 0.1 .. 0.37
    const choice = chooseOosThreshold(labels, [...inScope, ...oos], 0.05);
    expect(choice.validation.in_scope_rejected).toBeLessThanOrEqual(0.05);
    expect(choice.validation.in_scope_rejected).toBeGreaterThan(0.03);
    // Any higher threshold would turn away more in-scope rows than the budget allows.
    expect(inScope.filter((s) => s < choice.threshold + 0.01).length / 100).toBeGreaterThan(0.05);
    expect(choice.validation.oos_rejected).toBe(0.8); // 0.34 and 0.37 score above the chosen 0.335
    expect(choice.validation.auroc).toBeGreaterThan(0.9);
  });
});

describe('auroc', () => {
  it('is 1 for perfect separation, 0 for reversed, 0.5 for ties', () => {
    expect(auroc([0.9, 0.8], [0.1, 0.2])).toBe(1);
    expect(auroc([0.1, 0.2], [0.9, 0.8])).toBe(0);
    expect(auroc([0.5, 0.5], [0.5])).toBe(0.5);
  });
});

describe('evaluate with out-of-scope rows', () => {
  // A classifier whose best in-scope score is written in the message: "card_arrival 0.7".
  const scripted: Classifier = {
    async classify(text, options) {
      const [label, s] = text.split(' ') as [string, string];
      const score = Number(s);
      const d = decide([score, 1 - score], [label, OUT_OF_SCOPE], 5, options?.oosThreshold ?? 0.5);
      return {
        ...d,
        model: 'scripted',
        device: 'cpu',
        latency_ms: 0,
        truncated: false,
        masked: false,
        masked_categories: [],
      } satisfies ModelPrediction;
    },
  };
  const rows = [
    { text: 'card_arrival 0.9', label: 'card_arrival' },
    { text: 'card_arrival 0.4', label: 'card_arrival' },
    { text: 'card_arrival 0.3', label: OUT_OF_SCOPE },
    { text: 'card_arrival 0.6', label: OUT_OF_SCOPE },
  ];

  it('reports the rejection rates, accuracy with and without rejection, and the curve', async () => {
    const r = await evaluate(scripted, rows, { batchSize: 1 });
    expect(r.accuracy).toBe(0.5); // row 1 right, row 2 wrongly rejected, row 3 rejected, row 4 missed
    expect(r.out_of_scope.oos_rejected).toBe(0.5);
    expect(r.out_of_scope.in_scope_rejected).toBe(0.5);
    expect(r.out_of_scope.in_scope_accuracy_without_rejection).toBe(1);
    expect(r.out_of_scope.auroc).toBe(0.75); // out-of-scope 0.7, 0.4 against in-scope 0.1, 0.6: 3 of 4 pairs ordered
    const at = (t: number) => r.out_of_scope.curve.find((p) => Math.abs(p.threshold - t) < 1e-9)!;
    expect(at(0).in_scope_rejected).toBe(0);
    expect(at(0.5).oos_rejected).toBe(0.5);
    expect(at(0.95).oos_rejected).toBe(1);
  });

  it('passes the threshold it is given to the classifier', async () => {
    const r = await evaluate(scripted, rows, { batchSize: 1, oosThreshold: 0 });
    expect(r.out_of_scope.in_scope_rejected).toBe(0);
    expect(r.out_of_scope.threshold).toBe(0);
  });
});
