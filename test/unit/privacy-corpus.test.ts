/**
 * The privacy corpus (test/fixtures/privacy): no secret of any category may survive masking, and
 * at most 2% of the benign banking messages may change. The leak rule and the counting are shared
 * with `npm run privacy:report` (scripts/lib/privacy-corpus.ts), which prints the same table.
 */
import { describe, expect, it } from 'vitest';
import { evaluateCorpus, leakedWindow, loadCorpus, normaliseForLeak, type CorpusReport } from '../../scripts/lib/privacy-corpus';
import { maskPersonalData } from '../../src/privacy/mask';

const corpus = loadCorpus();
const report = evaluateCorpus((text) => maskPersonalData(text).text, corpus);

/** The figures to read when a test fails: per category, then each leak and each benign change. */
function describeReport(r: CorpusReport): string {
  const rows = r.categories.map(
    (c) => `  ${c.category.padEnd(20)} ${String(c.messages).padStart(4)} msgs ${String(c.secrets).padStart(4)} secrets ${c.leaked} leaked`,
  );
  const leaks = r.leaks.map((l) => `  LEAK ${l.category}: ${JSON.stringify(l.secret)} in ${JSON.stringify(l.masked)}`);
  const changes = r.changes.map((c) => `  CHANGED ${c.category}: ${JSON.stringify(c.text)} -> ${JSON.stringify(c.masked)}`);
  return [...rows, `  benign changed ${r.benign.changed}/${r.benign.messages}`, ...leaks, ...changes].join('\n');
}

describe('the leak rule', () => {
  it('normalises case, any-script digits and punctuation away', () => {
    expect(normaliseForLeak('４５３２-0151 ٠١٢ AbC!')).toBe('45320151012abc');
  });

  it('finds a run of five characters of the secret, or all of a shorter one', () => {
    expect(leakedWindow('card [CARD] ending 0366', '4532 0151 1283 0366')).toBeNull();
    expect(leakedWindow('card 4532 [NUMBER]', '4532 0151 1283 0366')).toBeNull();
    expect(leakedWindow('card 4532 01[NUMBER]', '4532 0151 1283 0366')).toBe('45320');
    expect(leakedWindow('my pin is 4821', '4821')).toBe('4821');
  });
});

describe('the privacy corpus', () => {
  it('is large enough to mean something', () => {
    expect(corpus.secrets.length).toBeGreaterThanOrEqual(400);
    expect(corpus.benign.length).toBeGreaterThanOrEqual(150);
  });

  it.each(report.categories.map((c) => [c.category, c] as const))('leaks no %s secret', (category) => {
    const leaks = report.leaks.filter((l) => l.category === category);
    expect(leaks, describeReport(report)).toEqual([]);
  });

  it('changes at most 2% of the benign messages', () => {
    expect(report.benign.changedShare, describeReport(report)).toBeLessThanOrEqual(0.02);
  });
});
