/**
 * npm run probe-set [-- --data data/banking77/test.csv] [--seed 77] [--out src/bench/probe-set.json]   (--help: every option)
 * npm run probe-set -- --model-dir DIR --data HELD-OUT.csv
 *
 * With --model-dir: writes DIR/probe-set.json, the probe set of a model trained on a bank's own
 * intents, drawn from a CSV of rows it never trained on (src/bench/probe-draw.ts; `npm run train`
 * writes one itself). Benchmark rounds of that model then probe its intents.
 *
 * Without: writes the benchmark's bundled probe set, drawn with a seeded generator:
 * - in scope: a stratified sample of the Banking77 test split, two distinct queries for each of
 *   the 77 intents (154);
 * - out of scope: two distinct held-out negatives for each source group of `loadNegatives().test`
 *   (an HWU64 or SNIPS intent, or a kind of generated text), labelled `out_of_scope`. That split
 *   is never trained on nor used for any choice, so a model's rejection rate here is honest.
 * Rerunning it with the same arguments (and the same negatives) writes the same file, byte for byte.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { drawProbeSet } from '../src/bench/probe-draw';
import { PROBE_SET_FILE, probeSetId, type ProbeItem, type ProbeSet } from '../src/bench/probe-hash';
import { BANKING77_LABELS, OUT_OF_SCOPE } from '../src/core/labels';
import { mulberry32, shuffle } from '../src/models/custom/random';
import { readLabelledCsv } from '../src/training/data';
import { DEFAULT_NEGATIVES, loadNegatives } from '../src/training/negatives';
import { defineCommand, positiveInt, requireDir, requireFile, runCli } from './lib/cli';

const PER_INTENT = 2;
const PER_NEGATIVE_GROUP = 2;

const command = defineCommand({
  command: 'npm run probe-set --',
  summary: `Writes the benchmark's probe set, drawn with a seeded generator: two distinct queries for each of the 77
    intents from the Banking77 test split, and two distinct held-out out-of-scope messages for each source group.
    The same arguments write the same file, byte for byte.`,
  options: {
    data: { type: 'string', value: 'FILE', default: 'data/banking77/test.csv', description: 'the Banking77 CSV to draw from' },
    seed: { type: 'string', value: 'N', default: '77', description: 'seed of the draw' },
    out: {
      type: 'string',
      value: 'FILE',
      defaultText: `src/bench/probe-set.json; with --model-dir, DIR/${PROBE_SET_FILE}`,
      description: 'the probe set written',
    },
    'model-dir': {
      type: 'string',
      value: 'DIR',
      defaultText: 'none: the bundled Banking77 set',
      description: "a trained model's folder: draw its own probe set from --data (its held-out rows), for its labels",
    },
  },
  examples: [
    'npm run probe-set',
    'npm run probe-set -- --seed 78 --out /tmp/probe-set.json',
    'npm run probe-set -- --model-dir models/my-bank --data my-held-out.csv',
  ],
});

runCli(async () => {
  const { values } = command.parse();
  requireFile(values.data, '--data');
  const seed = positiveInt(values.seed, 'seed', 77);
  if (values['model-dir'] !== undefined) {
    const dir = requireDir(values['model-dir'], '--model-dir');
    const configFile = requireFile(join(dir, 'config.json'), '--model-dir: the model file');
    const { labels } = JSON.parse(readFileSync(configFile, 'utf8')) as { labels?: unknown };
    if (!Array.isArray(labels) || !labels.every((l) => typeof l === 'string'))
      throw new Error(`${configFile} has no list of labels: is ${dir} a model folder?`);
    // The bundled negatives' test split, as in the model's training (when it learnt out_of_scope).
    const negatives = labels.includes(OUT_OF_SCOPE) ? loadNegatives(DEFAULT_NEGATIVES) : undefined;
    const set = await drawProbeSet({
      labels,
      rows: readLabelledCsv(values.data),
      negatives: negatives?.test,
      exclude: new Set([...(negatives?.train ?? []), ...(negatives?.validation ?? [])].map((row) => row.text)),
      seed,
      from: `held-out rows of ${values.data}`,
    });
    const out = values.out ?? join(dir, PROBE_SET_FILE);
    writeFileSync(out, JSON.stringify(set, null, 2) + '\n');
    console.log(`${out}: ${set.id}, ${set.n} queries; ${set.source}`);
    return;
  }
  const outFile = values.out ?? 'src/bench/probe-set.json';
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
  // Drawn after the in-scope queries, so those stay the ones earlier probe sets had.
  const negatives = heldOutNegativesByGroup();
  for (const [group, texts] of negatives) {
    if (texts.length < PER_NEGATIVE_GROUP)
      throw new Error(`held-out negatives: only ${texts.length} distinct texts for "${group}", need ${PER_NEGATIVE_GROUP}`);
    for (const text of shuffle([...texts], random).slice(0, PER_NEGATIVE_GROUP)) items.push({ text, label: OUT_OF_SCOPE });
  }
  if (new Set(items.map((i) => i.text)).size !== items.length) throw new Error('a text was drawn twice (in scope and out of scope?)');
  // Mixed order, so a round cut short still covers many intents and some negatives.
  shuffle(items, random);

  const set: ProbeSet = {
    id: await probeSetId(items),
    n: items.length,
    source:
      `Banking77 test split (${values.data}), ${PER_INTENT} distinct queries per intent for ${BANKING77_LABELS.length} intents; ` +
      `out of scope: ${PER_NEGATIVE_GROUP} distinct held-out negatives (src/training/negatives.ts, test split, seed ${DEFAULT_NEGATIVES.seed}) ` +
      `per source group for ${negatives.size} groups (${[...negatives.keys()].join(', ')}); mulberry32 seed ${seed}`,
    seed,
    items,
  };
  const json = await format(JSON.stringify(set), { ...(await resolveConfig(outFile)), filepath: outFile });
  writeFileSync(outFile, json);
  const oos = items.filter((i) => i.label === OUT_OF_SCOPE).length;
  console.log(`${outFile}: ${set.id}, ${set.n} queries (${set.n - oos} in scope, ${oos} out of scope)`);
});

/**
 * The held-out negatives' distinct texts by source group, groups in `groups.test` order. A text
 * that also occurs among the training or validation negatives (the sources repeat a few short
 * ones, such as "hello") is left out: a probe must be unseen.
 */
function heldOutNegativesByGroup(): Map<string, string[]> {
  const { train, validation, test, groups } = loadNegatives(DEFAULT_NEGATIVES);
  const seen = new Set([...train, ...validation].map((row) => row.text));
  const byGroup = new Map<string, string[]>(groups.test.map((group) => [group, []]));
  for (const { text, group } of test) {
    const texts = byGroup.get(group)!;
    if (!seen.has(text) && !texts.includes(text)) texts.push(text);
  }
  return byGroup;
}
