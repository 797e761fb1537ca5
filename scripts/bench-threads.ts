/**
 * npm run bench:threads -- [--rounds 8] [--json]
 *
 * Whether WebAssembly threads help the custom model, as a ratio measured in one process: the built
 * site served twice, cross-origin isolated (COOP/COEP: onnxruntime-web on up to 4 threads) and not
 * (one thread), both pages open in one headless Chromium, benchmark rounds (the page's own, on the
 * probe set) alternating between them so that both see the same machine. The first round of each
 * is warm-up and not counted. Prints each round's p50 and the median of each side, and their ratio.
 */
import { median } from '../src/bench/metrics';
import type { BenchmarkRound } from '../src/bench/round';
import type { BankingIntentAutomation } from '../src/ui/automation';
import { launchChromium, serveSite } from './lib/browser';
import { defineCommand, positiveInt, runCli } from './lib/cli';

type Automated = Window & { bankingIntent?: BankingIntentAutomation };
const SIDES = ['threads', 'one thread'] as const;

const command = defineCommand({
  command: 'npm run bench:threads --',
  summary: `Serves the built site cross-origin isolated and not, opens both in one headless Chromium (WASM), and runs
    benchmark rounds alternating between them: the custom model's p50 with WebAssembly threads and on one thread, and
    their ratio. Needs \`npm run build\` first.`,
  options: {
    rounds: { type: 'string', value: 'N', default: '8', description: 'rounds per side, after one warm-up round each' },
    json: { type: 'boolean', default: false, description: 'end with one JSON object' },
  },
  examples: ['npm run build && npm run bench:threads', 'npm run bench:threads -- --rounds 12 --json'],
});

runCli(async () => {
  const { values } = command.parse();
  const rounds = positiveInt(values.rounds, 'rounds', 8);
  const sites = [await serveSite(), await serveSite({ isolated: false })];
  const browser = await launchChromium({ webgpu: false });
  try {
    const pages = await Promise.all(
      sites.map(async (site) => {
        const page = await browser.newPage();
        await page.goto(`${site.origin}/?device=wasm&model=custom&bench=0`);
        await page.waitForFunction(() => (window as Automated).bankingIntent !== undefined);
        await page.evaluate(() => (window as Automated).bankingIntent!.ready);
        return page;
      }),
    );
    const isolated = await Promise.all(pages.map((page) => page.evaluate(() => crossOriginIsolated)));
    if (isolated[0] !== true || isolated[1] !== false) {
      throw new Error(`expected one isolated page and one not, got crossOriginIsolated ${isolated.join(' and ')}`);
    }
    const p50: number[][] = [[], []];
    for (let round = 0; round <= rounds; round++) {
      // Alternate which side goes first, so that neither always follows the other.
      for (const side of round % 2 ? [1, 0] : [0, 1]) {
        const record: BenchmarkRound = await pages[side]!.evaluate(() =>
          (window as Automated).bankingIntent!.runBenchmark({ trigger: 'cli', models: ['custom'] }),
        );
        const value = record.models.custom?.p50_latency_ms;
        if (typeof value !== 'number')
          throw new Error(`round ${round} (${SIDES[side]}): no p50: ${record.models.custom?.reason ?? 'unknown'}`);
        if (round > 0) p50[side]!.push(value);
      }
      process.stderr.write(round === 0 ? 'warm-up rounds done\n' : `round ${round}/${rounds}\n`);
    }
    const medians = p50.map((values) => median(values));
    const ratio = medians[0]! / medians[1]!;
    SIDES.forEach((side, i) =>
      console.log(`${side.padEnd(10)}  p50 per round: ${p50[i]!.map((v) => v.toFixed(2)).join(' ')}  median ${medians[i]!.toFixed(2)} ms`),
    );
    const cores = await pages[0]!.evaluate(() => navigator.hardwareConcurrency);
    console.log(`threads / one thread: ${ratio.toFixed(2)} (${cores} logical CPUs)`);
    if (values.json)
      console.log(
        JSON.stringify({
          rounds,
          p50_threads: p50[0],
          p50_one_thread: p50[1],
          median_threads: medians[0],
          median_one_thread: medians[1],
          ratio,
        }),
      );
  } finally {
    await browser.close();
    await Promise.all(sites.map((site) => site.close()));
  }
});
