/**
 * npm run bench -- [--models custom,llama-qlora,vllm,gemini] [--rounds 1] [--out benchmark_results.jsonl] [--append]
 *                  [--model-dir DIR] [--device wasm|webgpu] [--llama-wasm] [--vllm-url URL --vllm-model NAME]
 *                  [--gemini-base-url URL] [--no-peer] [--single-thread] [--screenshot FILE.png] [--json]
 * npm run bench -- --summary FILE.jsonl [--last 10] [--json]
 * Every option, with its default: `npm run bench -- --help`.
 *
 * llama-qlora needs WebGPU: benchmark it with `--device webgpu` (SwiftShader on a machine without
 * a GPU: correct, but slow), or with `--llama-wasm`, which lets it run on WebAssembly.
 *
 * Serves the built site, drives it in headless Chromium, runs benchmark rounds through the page's
 * own scheduler (so the records are exactly the browser's), writes them as JSONL and prints a
 * table. Then, in the same run, times our model beside the DistilBERT-shaped peer and reports the
 * floor (FLOPs / WASM matmul rate): that part runs `scripts/bench-node.ts`, in Node, on
 * onnxruntime-web's WASM backend (the browser's WASM kernels) and onnxruntime-node; its figures
 * go into the JSONL too, as `peer` on the run's last round.
 *
 * `--model-dir DIR` benchmarks a model trained with `npm run train` in place of the bundled one:
 * the folder is served on the site at /bench-model/ and the page opened with ?models=/bench-model/.
 * Its rounds probe its own intents (its probe-set.json), or stop with a message saying why not.
 *
 * `--summary FILE.jsonl` runs nothing: it prints the summary across the file's last N rounds
 * (src/bench/across-rounds.ts, the same as the page's dashboard shows).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { inScopeAccuracy, type BenchmarkRound, type ModelRoundResult, type PeerComparison } from '../src/bench/round';
import { exportJsonl, parseJsonl } from '../src/bench/jsonl';
import { DEFAULT_LAST_ROUNDS, formatAcrossRounds, formatBytes, summarizeAcrossRounds } from '../src/bench/across-rounds';
import type { BankingIntentAutomation } from '../src/ui/automation';
import { DIST, launchChromium, serveSite } from './lib/browser';
import { defineCommand, positiveInt, requireDir, requireFile, runCli, UsageError } from './lib/cli';
import { startProgress } from './lib/progress';
import { parseModelList } from '../src/core/config';
import { describeThreads } from '../src/bench/environment';

type Automated = Window & { bankingIntent?: BankingIntentAutomation; __benchProgress?: (p: RoundProgressEvent) => void };
interface RoundProgressEvent {
  model: string;
  done: number;
  total: number;
}

const MODELS = ['custom', 'llama-qlora', 'vllm', 'gemini'];
/** Where `--model-dir` is served on the site. */
const MODEL_MOUNT = '/bench-model/';

const command = defineCommand({
  command: 'npm run bench --',
  summary: `Benchmark rounds in the browser: serves the built site (building it first if dist/ is missing), drives it in
    headless Chromium, runs rounds on the probe set through the page's own scheduler, writes the records as JSONL and
    prints a table. Then times our model beside a DistilBERT-shaped peer in Node (scripts/bench-node.ts) unless --no-peer,
    and writes that into the JSONL too. With --summary FILE.jsonl it runs nothing and prints the summary across the
    file's last rounds (the median of each figure per model).`,
  options: {
    models: { type: 'string', value: 'A,B', default: 'custom', description: `the models to benchmark, among ${MODELS.join(', ')}` },
    rounds: { type: 'string', value: 'N', default: '1', description: 'rounds to run' },
    out: { type: 'string', value: 'FILE', default: 'benchmark_results.jsonl', description: 'the JSONL file written (one round per line)' },
    append: { type: 'boolean', default: false, description: 'add the rounds to the end of --out instead of replacing it' },
    'model-dir': {
      type: 'string',
      value: 'DIR',
      defaultText: 'the bundled model',
      description: 'a model folder from npm run train, benchmarked as custom (on its own probe set)',
    },
    summary: {
      type: 'string',
      value: 'FILE.jsonl',
      defaultText: 'none',
      description: 'print the summary across the rounds of this file (median per model) and exit',
    },
    last: { type: 'string', value: 'N', default: String(DEFAULT_LAST_ROUNDS), description: 'with --summary: over the last N rounds' },
    device: { type: 'string', default: 'wasm', choices: ['wasm', 'webgpu'], description: 'where on-device models run in the page' },
    'llama-wasm': { type: 'boolean', default: false, description: 'let llama-qlora run on WebAssembly (it needs WebGPU otherwise)' },
    'vllm-url': {
      type: 'string',
      value: 'URL',
      defaultText: 'none',
      description: "the bank's vLLM server, entered in the page's settings",
    },
    'vllm-model': { type: 'string', value: 'NAME', defaultText: 'none', description: 'the model name on the vLLM server' },
    'gemini-base-url': { type: 'string', value: 'URL', defaultText: 'none', description: "the bank's Gemini proxy" },
    'no-peer': { type: 'boolean', default: false, description: 'skip the DistilBERT-shaped peer comparison' },
    'single-thread': {
      type: 'boolean',
      default: false,
      description: 'serve the site without COOP/COEP: not cross-origin isolated, so WASM runs on one thread',
    },
    screenshot: { type: 'string', value: 'FILE.png', defaultText: 'none', description: "a picture of the page's benchmark dashboard" },
    json: { type: 'boolean', default: false, description: 'end with one JSON object: the rounds and the peer summary' },
  },
  notes: [
    'Needs a Chromium: CHROMIUM_PATH, /usr/bin/chromium, an installed Chrome or Edge, or `npx playwright install chromium`.',
    'Progress (probes answered, with the time left) goes to standard error; on a terminal it is a bar.',
  ],
  examples: [
    'npm run bench',
    'npm run bench -- --models custom --rounds 3 --no-peer',
    'npm run bench -- --models custom --rounds 3 --no-peer --single-thread',
    'npm run bench -- --model-dir models/my-bank --rounds 3 --append',
    'npm run bench -- --summary benchmark_results.jsonl --last 5',
    'npm run bench -- --models custom,llama-qlora --device webgpu',
    'npm run bench -- --models custom --rounds 2 --out benchmark_results.jsonl --screenshot docs/dashboard.png',
  ],
});

runCli(async () => {
  const { values } = command.parse();
  const last = positiveInt(values.last, 'last', DEFAULT_LAST_ROUNDS);
  if (values.summary !== undefined) {
    requireFile(values.summary, '--summary');
    const summary = summarizeAcrossRounds(parseJsonl(readFileSync(values.summary, 'utf8')), { last });
    if (values.json) console.log(JSON.stringify(summary));
    else console.log(formatAcrossRounds(summary).join('\n'));
    return;
  }
  const modelDir = values['model-dir'];
  if (modelDir !== undefined) {
    requireDir(modelDir, '--model-dir');
    requireFile(join(modelDir, 'config.json'), '--model-dir: the model file');
  }
  const models = parseModelList(values.models);
  const unknown = models.filter((m) => !MODELS.includes(m));
  if (models.length === 0 || unknown.length > 0)
    throw new UsageError(`--models must list some of ${MODELS.join(', ')}, got "${values.models}"`);
  const rounds = positiveInt(values.rounds, 'rounds', 1);
  for (const [flag, file] of [
    ['out', values.out],
    ['screenshot', values.screenshot],
  ] as const) {
    if (file !== undefined && !existsSync(dirname(resolve(file)))) throw new UsageError(`--${flag}: the folder of ${file} does not exist`);
  }
  if (models.includes('llama-qlora') && values.device === 'wasm' && !values['llama-wasm']) {
    throw new Error('llama-qlora needs WebGPU: add --device webgpu, or --llama-wasm to run it on WebAssembly');
  }
  const log = (line: string) => process.stderr.write(line + '\n');

  if (!existsSync(resolve(DIST, 'index.html'))) {
    log('no built site in dist/: running npm run build');
    const build = spawnSync('npm', ['run', 'build'], { stdio: 'inherit' });
    if (build.status !== 0) throw new Error('npm run build failed');
  }

  const site = await serveSite({
    ...(modelDir === undefined ? {} : { mounts: { [MODEL_MOUNT]: resolve(modelDir) } }),
    isolated: !values['single-thread'],
  });
  // WebGPU needs --enable-unsafe-webgpu on machines without a GPU (SwiftShader); wasm keeps it off.
  const browser = await launchChromium({ webgpu: values.device === 'webgpu' });
  const records: BenchmarkRound[] = [];
  /** A round that failed or was refused: the rounds before it are still written, then this is the error. */
  let failure: Error | undefined;
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    page.on('pageerror', (error) => log(`page error: ${error.message}`));
    const device = values.device === 'webgpu' ? 'auto' : 'wasm';
    const llamaWasm = values['llama-wasm'] ? '&llama_wasm=1' : '';
    const modelsParam = modelDir === undefined ? '' : `&models=${encodeURIComponent(MODEL_MOUNT)}`;
    await page.goto(`${site.origin}/?device=${device}&model=custom&bench=0${llamaWasm}${modelsParam}`);
    if (values['vllm-url'] || values['gemini-base-url']) {
      // Endpoints are never taken from the address: enter them in the settings, as a user would.
      await page.locator('summary', { hasText: 'Remote models' }).click();
      if (values['vllm-url']) await page.getByLabel('vLLM URL').fill(values['vllm-url']);
      if (values['vllm-model']) await page.getByLabel('vLLM model').fill(values['vllm-model']);
      if (values['gemini-base-url']) await page.getByLabel('Gemini base URL').fill(values['gemini-base-url']);
      await page.getByRole('button', { name: 'Apply' }).click();
    }
    await page.waitForFunction(() => (window as Automated).bankingIntent !== undefined);
    await page.evaluate(() => (window as Automated).bankingIntent!.ready);
    // Probes answered, from the page's scheduler; each model's probe count is known from its first event.
    const progress = startProgress({ title: 'bench', total: rounds * models.length, unit: 'probes' });
    const seen = new Map<string, RoundProgressEvent>();
    let round = 0;
    await page.exposeFunction('__benchProgress', (p: RoundProgressEvent) => {
      seen.set(`${round}:${p.model}`, p);
      const perModel = Math.max(...[...seen.values()].map((e) => e.total));
      progress.setTotal(rounds * models.length * perModel);
      progress.update([...seen.values()].reduce((sum, e) => sum + e.done, 0));
    });
    await page.evaluate(() => {
      const w = window as Automated;
      w.bankingIntent!.on('round-progress', (p) => w.__benchProgress!(p));
    });
    try {
      for (round = 1; round <= rounds; round++) {
        progress.log(`round ${round}/${rounds}: ${models.join(', ')} on ${values.device} ...`, 'stderr');
        // A refused or failed round comes back as its message: one line, as every command's errors are.
        const outcome = await page.evaluate(async (ids) => {
          try {
            return { round: await (window as Automated).bankingIntent!.runBenchmark({ trigger: 'cli', models: ids }) };
          } catch (error) {
            return { error: error instanceof Error ? error.message : String(error) };
          }
        }, models);
        if ('error' in outcome) {
          failure = new Error(outcome.error);
          break;
        }
        records.push(outcome.round);
      }
    } finally {
      progress.stop();
    }
    if (values.screenshot && !failure) {
      // The dashboard draws its charts after the round event: wait for them before the picture.
      await page.locator('#benchmarks canvas').first().waitFor({ state: 'visible' });
      await page.waitForTimeout(500);
      await page.locator('#benchmarks').screenshot({ path: values.screenshot });
      log(`dashboard screenshot: ${values.screenshot}`);
    }
  } finally {
    await browser.close();
    await site.close();
  }

  for (const [i, round] of records.entries()) printRound(round, i + 1);
  if (failure) {
    if (records.length > 0) {
      if (values.append) appendFileSync(values.out, exportJsonl(records));
      else writeFileSync(values.out, exportJsonl(records));
      log(`${values.append ? 'appended' : 'wrote'} ${records.length} round(s) to ${values.out} before the failure`);
    }
    throw failure;
  }
  if (records.length > 1) {
    console.log('');
    console.log(formatAcrossRounds(summarizeAcrossRounds(records, { last: records.length })).join('\n'));
  }

  let peer: PeerComparison | undefined;
  try {
    if (!values['no-peer']) {
      log('timing our model beside the DistilBERT-shaped peer (scripts/bench-node.ts) ...');
      const output = execFileSync('npx', ['tsx', 'scripts/bench-node.ts', '--json', ...(modelDir ? ['--model-dir', modelDir] : [])], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const lines = output.trim().split('\n');
      console.log('');
      console.log(lines.slice(0, -1).join('\n'));
      peer = JSON.parse(lines.at(-1)!) as PeerComparison;
      // The comparison goes with the rounds it was measured after: on the last one.
      if (records.length > 0) records[records.length - 1]!.peer = peer;
    }
  } finally {
    // Written even if the peer failed: the rounds are not lost.
    if (values.append) appendFileSync(values.out, exportJsonl(records));
    else writeFileSync(values.out, exportJsonl(records));
    log(`${values.append ? 'appended' : 'wrote'} ${records.length} round(s) to ${values.out}`);
  }
  if (values.json) console.log(JSON.stringify({ out: values.out, rounds: records, peer }));
});

/**
 * Columns of the printed table. accuracy: over all probes (a rejected out-of-scope probe is right);
 * in scope: accuracy on in-scope probes, out_of_scope answers wrong; oos rejected: out-of-scope
 * probes answered out_of_scope; in-scope rejected: in-scope probes wrongly answered so.
 */
const COLUMNS: [head: string, width: number, value: (m: ModelRoundResult) => string][] = [
  ['status', 12, (m) => m.status],
  ['device', 6, (m) => m.device ?? '-'],
  ['n', 4, (m) => String(m.n)],
  ['accuracy', 8, (m) => percent(m.accuracy)],
  ['in scope', 8, (m) => percent(inScopeAccuracy(m))],
  ['oos rejected', 12, (m) => percent(m.oos_rejected)],
  ['in-scope rejected', 17, (m) => percent(m.in_scope_rejected)],
  ['mean conf', 9, (m) => fixed(m.mean_confidence, 3)],
  ['p50 ms', 8, (m) => fixed(m.p50_latency_ms)],
  ['p95 ms', 8, (m) => fixed(m.p95_latency_ms)],
  ['p99 ms', 8, (m) => fixed(m.p99_latency_ms)],
  ['errors', 6, (m) => String(m.errors)],
  ['95% interval', 12, (m) => (m.accuracy_ci95 ? `${(100 * m.accuracy_ci95[0]).toFixed(1)}-${percent(m.accuracy_ci95[1])}` : '-')],
  ['macro-F1', 8, (m) => percent(m.macro_f1)],
  ['load ms', 8, (m) => fixed(m.load_ms, 0)],
  ['download', 9, (m) => formatBytes(m.download_bytes)],
];

function printRound(round: BenchmarkRound, index: number): void {
  console.log('');
  const intents = round.probe_set.intents === undefined ? '' : `, ${round.probe_set.intents} intents`;
  const threads = describeThreads(round.environment);
  console.log(
    `round ${index}: ${round.timestamp}, probe set ${round.probe_set.id} (${round.probe_set.n} queries${intents}), trigger ${round.trigger}${threads ? `, ${threads}` : ''}`,
  );
  // Text columns (status, device) align left, numbers right.
  const line = (first: string, cells: string[]) =>
    [first.padEnd(11), ...cells.map((c, i) => (i < 2 ? c.padEnd(COLUMNS[i]![1]) : c.padStart(COLUMNS[i]![1])))].join('  ');
  console.log(
    line(
      'model',
      COLUMNS.map(([head]) => head),
    ),
  );
  for (const [id, m] of Object.entries(round.models)) {
    console.log(
      line(
        id,
        COLUMNS.map(([, , value]) => value(m)),
      ) + (m.reason ? `\n${' '.repeat(13)}${m.reason}` : ''),
    );
  }
  console.log(`summary: ${round.summary.recommendation}`);
}

function fixed(x: number | null | undefined, digits = 2): string {
  return x === null || x === undefined ? '-' : x.toFixed(digits);
}

function percent(x: number | null | undefined): string {
  return x === null || x === undefined ? '-' : `${(100 * x).toFixed(1)}%`;
}
