/**
 * npm run bench -- [--models custom,llama-qlora,vllm,gemini] [--rounds 1] [--out benchmark_results.jsonl]
 *                  [--device wasm|webgpu] [--llama-wasm] [--vllm-url URL --vllm-model NAME] [--gemini-base-url URL]
 *                  [--no-peer] [--screenshot FILE.png] [--json]
 *
 * llama-qlora needs WebGPU: benchmark it with `--device webgpu` (SwiftShader on a machine without
 * a GPU: correct, but slow), or with `--llama-wasm`, which lets it run on WebAssembly.
 *
 * Serves the built site, drives it in headless Chromium, runs benchmark rounds through the page's
 * own scheduler (so the records are exactly the browser's), writes them as JSONL and prints a
 * table. Then, in the same run, times our model beside the DistilBERT-shaped peer and reports the
 * floor (FLOPs / WASM matmul rate): that part runs `scripts/bench-node.ts`, in Node, on
 * onnxruntime-web's WASM backend (the browser's WASM kernels) and onnxruntime-node.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { inScopeAccuracy, type BenchmarkRound, type ModelRoundResult } from '../src/bench/round';
import { exportJsonl } from '../src/bench/jsonl';
import type { BankingIntentAutomation } from '../src/ui/automation';
import { DIST, launchChromium, serveSite } from './lib/browser';
import { positiveInt, runCli } from './lib/cli';

type Automated = Window & { bankingIntent?: BankingIntentAutomation };

runCli(async () => {
  const { values } = parseArgs({
    options: {
      models: { type: 'string', default: 'custom' },
      rounds: { type: 'string' },
      out: { type: 'string', default: 'benchmark_results.jsonl' },
      device: { type: 'string', default: 'wasm' },
      'llama-wasm': { type: 'boolean', default: false },
      'vllm-url': { type: 'string' },
      'vllm-model': { type: 'string' },
      'gemini-base-url': { type: 'string' },
      'no-peer': { type: 'boolean', default: false },
      screenshot: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const models = values.models
    .split(',')
    .map((m) => m.trim())
    .filter(Boolean);
  const rounds = positiveInt(values.rounds, 'rounds', 1);
  if (values.device !== 'wasm' && values.device !== 'webgpu') throw new Error(`--device must be wasm or webgpu, got "${values.device}"`);
  if (models.includes('llama-qlora') && values.device === 'wasm' && !values['llama-wasm']) {
    throw new Error('llama-qlora needs WebGPU: add --device webgpu, or --llama-wasm to run it on WebAssembly');
  }
  const log = (line: string) => process.stderr.write(line + '\n');

  if (!existsSync(resolve(DIST, 'index.html'))) {
    log('no built site in dist/: running npm run build');
    const build = spawnSync('npm', ['run', 'build'], { stdio: 'inherit' });
    if (build.status !== 0) throw new Error('npm run build failed');
  }

  const site = await serveSite();
  // WebGPU needs --enable-unsafe-webgpu on machines without a GPU (SwiftShader); wasm keeps it off.
  const browser = await launchChromium({ webgpu: values.device === 'webgpu' });
  const records: BenchmarkRound[] = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    page.on('pageerror', (error) => log(`page error: ${error.message}`));
    const device = values.device === 'webgpu' ? 'auto' : 'wasm';
    const llamaWasm = values['llama-wasm'] ? '&llama_wasm=1' : '';
    await page.goto(`${site.origin}/?device=${device}&model=custom&bench=0${llamaWasm}`);
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
    for (let r = 1; r <= rounds; r++) {
      log(`round ${r}/${rounds}: ${models.join(', ')} on ${values.device} ...`);
      records.push(
        await page.evaluate((ids) => (window as Automated).bankingIntent!.runBenchmark({ trigger: 'cli', models: ids }), models),
      );
    }
    if (values.screenshot) {
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

  writeFileSync(values.out, exportJsonl(records));
  for (const [i, round] of records.entries()) printRound(round, i + 1);
  log(`wrote ${records.length} round(s) to ${values.out}`);

  let peer: PeerSummary | undefined;
  if (!values['no-peer']) {
    log('timing our model beside the DistilBERT-shaped peer (scripts/bench-node.ts) ...');
    const output = execFileSync('npx', ['tsx', 'scripts/bench-node.ts', '--json'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines = output.trim().split('\n');
    console.log('');
    console.log(lines.slice(0, -1).join('\n'));
    peer = JSON.parse(lines.at(-1)!) as PeerSummary;
  }
  if (values.json) console.log(JSON.stringify({ out: values.out, rounds: records, peer }));
});

/** The fields of bench-node's JSON line that this script passes on. */
interface PeerSummary {
  ratios: { size: number; latency_p50: Record<string, number> };
  models: { custom: { floor_wasm_ms: number }; peer: { floor_wasm_ms: number } };
}

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
];

function printRound(round: BenchmarkRound, index: number): void {
  console.log('');
  console.log(
    `round ${index}: ${round.timestamp}, probe set ${round.probe_set.id} (${round.probe_set.n} queries), trigger ${round.trigger}`,
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
