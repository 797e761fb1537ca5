/** The bundled out-of-scope examples: sources, exclusions and a split that holds topics out. */
import { describe, expect, it } from 'vitest';
import { OUT_OF_SCOPE } from '../../src/core/labels';
import { EXCLUDED_INTENTS, generatedNegatives, loadNegatives } from '../../src/training/negatives';
import { readLabelledCsv } from '../../src/training/data';

describe('loadNegatives', () => {
  const n = loadNegatives();

  it('labels every row out_of_scope and has rows in all three splits', () => {
    for (const split of [n.train, n.validation, n.test]) {
      expect(split.length).toBeGreaterThan(300);
      expect(split.every((r) => r.label === OUT_OF_SCOPE)).toBe(true);
    }
  });

  it('holds whole source intents out: no corpus intent is in two splits, and no text either', () => {
    const corpus = (list: string[]) => list.filter((g) => !g.startsWith('generated:'));
    const train = new Set(corpus(n.groups.train));
    for (const g of [...corpus(n.groups.validation), ...corpus(n.groups.test)]) expect(train.has(g)).toBe(false);
    expect(corpus(n.groups.validation).filter((g) => corpus(n.groups.test).includes(g))).toEqual([]);
    const trainTexts = new Set(n.train.map((r) => r.text));
    const leaked = [...n.validation, ...n.test].filter((r) => trainTexts.has(r.text));
    // HWU64 and SNIPS repeat a few short utterances across intents ("yes", "stop"): allow a handful, no more.
    expect(leaked.length).toBeLessThan(15);
  });

  it('leaves out the intents and the rows that are banking questions', () => {
    const all = [...n.groups.train, ...n.groups.validation, ...n.groups.test];
    for (const intent of EXCLUDED_INTENTS) expect(all).not.toContain(`hwu64:${intent}`);
    const hwuCurrency = readLabelledCsv('data/hwu64/utterances.csv')
      .filter((r) => r.label === 'qa_currency')
      .map((r) => r.text);
    const texts = new Set([...n.train, ...n.validation, ...n.test].map((r) => r.text));
    expect(hwuCurrency.filter((t) => texts.has(t))).toEqual([]);
    for (const r of [...n.train, ...n.validation, ...n.test]) expect(r.text).not.toMatch(/\b(card|account|transfer|refund|balance)\b/i);
  });

  it('is deterministic per seed', () => {
    expect(loadNegatives().test).toEqual(n.test);
  });

  it('generates every kind a banking widget receives, without duplicates', () => {
    const kinds = generatedNegatives(1);
    expect(Object.keys(kinds).sort()).toEqual(['chat', 'closing', 'emptyish', 'foreign', 'gibberish', 'greeting', 'person']);
    for (const texts of Object.values(kinds)) expect(new Set(texts).size).toBe(texts.length);
    for (const kind of Object.keys(kinds)) expect(n.groups.train).toContain(`generated:${kind}`);
  });
});
