import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BANKING77_LABELS } from '../../src/core/labels';
import { labelSet, readLabelledCsv, stratifiedSplit } from '../../src/training/data';

describe('training data', () => {
  const rows = readLabelledCsv('data/banking77/train.csv');

  it('reads Banking77 with quoted, multi-line fields: 10,003 rows, 77 labels', () => {
    expect(rows).toHaveLength(10_003);
    expect(new Set(rows.map((r) => r.label)).size).toBe(77);
    expect(BANKING77_LABELS).toHaveLength(77);
    expect(labelSet(rows, BANKING77_LABELS)).toEqual(BANKING77_LABELS);
  });

  it('carves a stratified, seeded validation split with every label', () => {
    const a = stratifiedSplit(rows, 0.1, 1);
    const b = stratifiedSplit(rows, 0.1, 1);
    expect(a.validation.map((r) => r.text)).toEqual(b.validation.map((r) => r.text));
    expect(new Set(a.validation.map((r) => r.label)).size).toBe(77);
    expect(a.train.length + a.validation.length).toBe(rows.length);
    expect(a.validation.length).toBeGreaterThan(950);
    expect(a.validation.length).toBeLessThan(1050);
  });

  it('accepts a bank’s own text,label CSV and names the file when columns are wrong', () => {
    const dir = mkdtempSync(join(tmpdir(), 'csv-'));
    writeFileSync(join(dir, 'ok.csv'), 'text,label\n"Hello, is my loan approved?",loan_status\nfreeze my card,freeze_card\n');
    writeFileSync(join(dir, 'bad.csv'), 'message,intent_name\nhello,x\n');
    const own = readLabelledCsv(join(dir, 'ok.csv'));
    expect(own[0]).toEqual({ text: 'Hello, is my loan approved?', label: 'loan_status' });
    expect(labelSet(own, BANKING77_LABELS)).toEqual(['freeze_card', 'loan_status']);
    expect(() => readLabelledCsv(join(dir, 'bad.csv'))).toThrow(/bad\.csv: expected columns "text" and "label"/);
  });
});
