/**
 * How well the privacy guard masks, measured: `npm run privacy:report` prints, per category of
 * the corpus in test/fixtures/privacy, how many secrets leaked through masking, which benign
 * messages were changed (and to what), and how long masking a 4 MiB message takes in Node.
 *
 *   npm run privacy:report             # tables
 *   npm run privacy:report -- --json   # the same, as JSON
 *
 * The corpus is fake, so its values may be printed. The timing is the fastest of several runs of
 * `guardOutgoing` on one 4 MiB message of each kind, on this machine, single-threaded; on a busy
 * machine the CPU time says more than the wall time.
 */
import { cpus, loadavg } from 'node:os';
import { defineCommand, orExit } from './lib/cli';
import { evaluateCorpus, loadCorpus } from './lib/privacy-corpus';
import { guardOutgoing } from '../src/privacy/guard';

const command = defineCommand({
  command: 'npm run privacy:report --',
  summary: `How well the privacy guard masks, measured on the fake corpus in test/fixtures/privacy: per category, how many
    secrets leaked through masking, which benign messages were changed (and to what), and how long masking a 4 MiB
    message of several kinds takes in Node.`,
  options: { json: { type: 'boolean', default: false, description: 'print the same as one JSON object' } },
  examples: ['npm run privacy:report', 'npm run privacy:report -- --json'],
});
const json = command.parseOrExit().values.json;
const corpus = orExit(() => loadCorpus());
const report = evaluateCorpus((text) => guardOutgoing(text).text, corpus);

// ---- Timing: 4 MiB messages of several kinds.

const MIB4 = 4 * 1024 * 1024;

/** `parts` repeated, one per line, cut to 4 MiB (UTF-16 code units). */
function fill(parts: readonly string[]): string {
  const chunks: string[] = [];
  let length = 0;
  for (let i = 0; length < MIB4; i++) {
    const part = parts[i % parts.length]! + '\n';
    chunks.push(part);
    length += part.length;
  }
  return chunks.join('').slice(0, MIB4);
}

const inputs: { name: string; text: string }[] = [
  { name: 'benign banking messages', text: fill(corpus.benign.map((m) => m.text)) },
  { name: 'corpus, secrets and benign', text: fill([...corpus.secrets, ...corpus.benign].map((m) => m.text)) },
  { name: 'digits, "1234 " repeated', text: '1234 '.repeat(MIB4 / 5) },
  { name: 'one 4 MiB token of letters', text: 'a'.repeat(MIB4) },
  { name: 'Cyrillic, CJK, other digits', text: fill(['Привет, мой пароль ١٢٣٤ и карта ４５３２ — ок', '我的卡被冻结了，请帮忙。']) },
];

const RUNS = 5;
const timings = inputs.map(({ name, text }) => {
  guardOutgoing(text.slice(0, 100_000)); // warm up the regular expressions
  const ms: number[] = [];
  const cpuMs: number[] = [];
  let categories: string[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    const cpu = process.cpuUsage();
    categories = guardOutgoing(text, { budgetMs: 60_000 }).categories;
    const used = process.cpuUsage(cpu);
    ms.push(performance.now() - started);
    cpuMs.push((used.user + used.system) / 1000);
  }
  ms.sort((a, b) => a - b);
  cpuMs.sort((a, b) => a - b);
  const fastestMs = round(ms[0]!);
  return { name, chars: text.length, fastestMs, medianMs: round(ms[Math.floor(RUNS / 2)]!), fastestCpuMs: round(cpuMs[0]!), categories };
});

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, loadAverage: loadavg().map(round), node: process.version };

if (json) {
  console.log(JSON.stringify({ ...report, timings, machine }, null, 2));
} else {
  const table = (header: string[], rows: (string | number)[][]): string => {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
    const line = (cells: (string | number)[]): string =>
      cells.map((c, i) => (typeof c === 'number' ? String(c).padStart(widths[i]!) : String(c).padEnd(widths[i]!))).join('  ');
    return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
  };
  const { totals, benign } = report;
  console.log('Secrets: messages, secrets and leaked secrets per category\n');
  console.log(
    table(
      ['category', 'messages', 'secrets', 'leaked'],
      [
        ...report.categories.map((c) => [c.category, c.messages, c.secrets, c.leaked]),
        ['total', totals.messages, totals.secrets, totals.leaked],
      ],
    ),
  );
  console.log('\nBenign messages changed per category\n');
  console.log(
    table(
      ['category', 'messages', 'changed'],
      [...benign.byCategory.map((c) => [c.category, c.messages, c.changed]), ['total', benign.messages, benign.changed]],
    ),
  );
  console.log(`\nBenign changed: ${benign.changed} of ${benign.messages} (${(benign.changedShare * 100).toFixed(1)}%, at most 2% allowed)`);
  for (const change of report.changes)
    console.log(`  [${change.category}] ${JSON.stringify(change.text)}\n    -> ${JSON.stringify(change.masked)}`);
  console.log(`\nLeaked secrets: ${report.leaks.length}`);
  for (const leak of report.leaks) console.log(`  [${leak.category}] ${JSON.stringify(leak.secret)} in ${JSON.stringify(leak.masked)}`);
  console.log(`\nMasking one 4 MiB message (guardOutgoing; wall time, fastest and median of ${RUNS} runs; CPU time, fastest)\n`);
  console.log(
    table(
      ['message', 'fastest ms', 'median ms', 'CPU ms'],
      timings.map((t) => [t.name, t.fastestMs, t.medianMs, t.fastestCpuMs]),
    ),
  );
  console.log(`\n${machine.cpu}, ${machine.cores} cores, load average ${machine.loadAverage.join(' ')}, Node ${machine.node}`);
}
