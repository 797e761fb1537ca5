/**
 * A probe set for a model trained on a bank's own intents, drawn from rows it never trained on:
 * `npm run train` writes one next to the model (`probe-set.json`), and `npm run probe-set --
 * --model-dir DIR --data HELD-OUT.csv` writes one for a model trained before. Benchmark rounds of
 * that model then probe its own intents instead of Banking77's (see probe-choice.ts).
 *
 * Stratified and seeded like the bundled set: the same number of distinct texts per intent (enough
 * for about 150 in-scope probes in all, at least 2 each, as many as the held-out rows have), the
 * bank's own held-out `out_of_scope` rows the same way, then 2 held-out negatives per source group,
 * all in one shuffled order so a round cut short still covers many intents.
 */
import { OUT_OF_SCOPE } from '../core/labels';
import { mulberry32, shuffle } from '../models/custom/random';
import { probeSetId, type ProbeItem, type ProbeSet } from './probe-hash';

/** About as many in-scope probes as the bundled set has (154): enough for an interval of about ±5 points. */
export const TARGET_IN_SCOPE_PROBES = 150;
const PER_NEGATIVE_GROUP = 2;

export interface DrawProbeSetOptions {
  /** The model's labels (its config.json `labels`); rows of other labels are left out. */
  labels: readonly string[];
  /** Held-out rows: a test split, or the validation split; `out_of_scope` rows are the bank's own negatives. */
  rows: readonly { text: string; label: string }[];
  /** Held-out out-of-scope messages by source group (the bundled negatives' test split). */
  negatives?: readonly { text: string; group: string }[];
  /** Texts the model trained on: never drawn. */
  exclude?: ReadonlySet<string>;
  /** Probes per intent. Default: enough for about 150 in-scope probes, at least 2. */
  perLabel?: number;
  seed?: number;
  /** Where the rows came from, in words (kept in the file's `source`). */
  from: string;
}

export async function drawProbeSet(o: DrawProbeSetOptions): Promise<ProbeSet> {
  const seed = o.seed ?? 77;
  const inScope = o.labels.filter((label) => label !== OUT_OF_SCOPE);
  if (inScope.length === 0) throw new RangeError('The model has no in-scope labels to probe.');
  const perLabel = o.perLabel ?? Math.max(2, Math.ceil(TARGET_IN_SCOPE_PROBES / inScope.length));
  const known = new Set(o.labels);
  const exclude = o.exclude ?? new Set<string>();

  // Distinct texts per label, in row order; a text drawn once is never drawn again.
  const byLabel = new Map<string, string[]>();
  const taken = new Set<string>();
  for (const { text, label } of o.rows) {
    if (!(known.has(label) || label === OUT_OF_SCOPE) || exclude.has(text) || taken.has(text)) continue;
    taken.add(text);
    byLabel.set(label, [...(byLabel.get(label) ?? []), text]);
  }
  const random = mulberry32(seed);
  const items: ProbeItem[] = [];
  const missing: string[] = [];
  for (const label of [...inScope].sort()) {
    const texts = byLabel.get(label) ?? [];
    if (texts.length === 0) missing.push(label);
    for (const text of shuffle([...texts], random).slice(0, perLabel)) items.push({ text, label });
  }
  if (items.length === 0) throw new RangeError(`${o.from} has no row of the model's ${inScope.length} intents to draw probes from.`);
  const own = shuffle([...(byLabel.get(OUT_OF_SCOPE) ?? [])], random).slice(0, perLabel);
  for (const text of own) items.push({ text, label: OUT_OF_SCOPE });

  const groups = new Map<string, string[]>();
  for (const { text, group } of o.negatives ?? []) {
    if (exclude.has(text) || taken.has(text)) continue;
    taken.add(text);
    groups.set(group, [...(groups.get(group) ?? []), text]);
  }
  for (const texts of groups.values()) {
    for (const text of shuffle([...texts], random).slice(0, PER_NEGATIVE_GROUP)) items.push({ text, label: OUT_OF_SCOPE });
  }
  shuffle(items, random);

  const probed = inScope.length - missing.length;
  const source =
    `${o.from}: up to ${perLabel} distinct queries per intent for ${probed} of the model's ${inScope.length} intents` +
    (missing.length > 0 ? ` (no held-out row for ${missing.join(', ')})` : '') +
    (own.length > 0 ? `; ${own.length} of its own out_of_scope rows` : '') +
    (groups.size > 0 ? `; ${PER_NEGATIVE_GROUP} held-out negatives per source group for ${groups.size} groups` : '') +
    `; mulberry32 seed ${seed}`;
  return { id: await probeSetId(items, `heldout-${probed}-intents-`), n: items.length, source, seed, items };
}
