/**
 * npm run probe-set [-- --data data/banking77/test.csv] [--seed 77] [--out src/bench/probe-set.json]
 * Writes the benchmark's probe set: a fixed, stratified sample of the Banking77 test split, two
 * distinct queries for each of the 77 intents (154), drawn with a seeded generator.
 * Rerunning it with the same arguments writes the same file, byte for byte.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { format, resolveConfig } from 'prettier';
import { probeSetId, type ProbeItem, type ProbeSet } from '../src/bench/probe-hash';
import { BANKING77_LABELS } from '../src/core/labels';
import { mulberry32, shuffle } from '../src/models/custom/random';
import { readLabelledCsv } from '../src/training/data';
import { positiveInt, runCli } from './lib/cli';

const PER_INTENT = 2;

runCli(async () => {
  const { values } = parseArgs({
    options: {
      data: { type: 'string', default: 'data/banking77/test.csv' },
      seed: { type: 'string' },
      out: { type: 'string', default: 'src/bench/probe-set.json' },
    },
  });
  const seed = positiveInt(values.seed, 'seed', 77);
  const rows = readLabelledCsv(values.data);

  // Distinct texts per intent, in file order; the test split repeats one text.
  const byLabel = new Map<string, string[]>(BANKING77_LABELS.map((label) => [label, []]));
  for (const { text, label } of rows) {
    const texts = byLabel.get(label);
    if (!texts) throw new Error(`${values.data}: "${label}" is not a Banking77 intent`);
    if (!texts.includes(text)) texts.push(text);
  }

  const random = mulberry32(seed);
  const items: ProbeItem[] = [];
  for (const label of BANKING77_LABELS) {
    const texts = byLabel.get(label)!;
    if (texts.length < PER_INTENT)
      throw new Error(`${values.data}: only ${texts.length} distinct texts for "${label}", need ${PER_INTENT}`);
    for (const text of shuffle([...texts], random).slice(0, PER_INTENT)) items.push({ text, label });
  }
  // Mixed order, so a round cut short still covers many intents.
  shuffle(items, random);

  const set: ProbeSet = {
    id: await probeSetId(items),
    n: items.length,
    source: `Banking77 test split (${values.data}), ${PER_INTENT} distinct queries per intent for ${BANKING77_LABELS.length} intents, mulberry32 seed ${seed}`,
    seed,
    items,
  };
  const json = await format(JSON.stringify(set), { ...(await resolveConfig(values.out)), filepath: values.out });
  writeFileSync(values.out, json);
  console.log(`${values.out}: ${set.id}, ${set.n} queries`);
});
