/**
 * `window.bankingIntent`: how programs drive the site. `npm run bench` (scripts/bench.ts) opens
 * the page in a browser, waits for `ready`, runs rounds and reads them back; the e2e tests do the
 * same. A round started here goes through the page's scheduler like any other, so it is stored
 * with the rest and never overlaps another round.
 *
 *   await window.bankingIntent.ready;
 *   const prediction = await window.bankingIntent.classify('I still have not received my new card');
 *   const round = await window.bankingIntent.runBenchmark({ trigger: 'cli', models: ['custom'] });
 *   const jsonl = await window.bankingIntent.exportJsonl();
 */
import type { BenchmarkRound, BenchmarkTrigger } from '../bench/round';
import type { Prediction } from '../core/prediction';
import type { RuntimeClassifyOptions } from '../runtime/intent-runtime';
import type { BenchmarkSchedulerEvents } from '../bench/scheduler';

export interface RunBenchmarkOptions {
  /** Recorded as the round's `trigger`. Default `cli`. */
  trigger?: Extract<BenchmarkTrigger, 'cli' | 'manual'>;
  /** Probe only these model ids (`custom`, `llama-qlora`, `vllm`, `gemini`); default every one. An unknown id rejects. */
  models?: string[];
}

export interface BankingIntentAutomation {
  /** Resolves once the active model has loaded, or failed to load (the page then shows why). */
  readonly ready: Promise<void>;
  /** Classifies one message through the page's runtime (active model, fallback chain), as the message box does. */
  classify(text: string, options?: RuntimeClassifyOptions): Promise<Prediction>;
  /**
   * Runs one round now (after the running one, if any) and resolves with its record once it is
   * stored; rejects if the round fails. Remote models are probed only if this page may send them
   * text, and paced (src/bench/scheduler.ts); a `cli` round is not held to the interval between
   * remote rounds, a `manual` one is (the model is then `unavailable` in the record, with the reason).
   */
  runBenchmark(options?: RunBenchmarkOptions): Promise<BenchmarkRound>;
  /** Every stored round, oldest first. */
  rounds(): Promise<BenchmarkRound[]>;
  /** Every stored round as `benchmark_results.jsonl` text. */
  exportJsonl(): Promise<string>;
  /**
   * Follows the scheduler (`round-start`, `round-progress`, `round`, `round-error`), e.g. to show
   * progress; returns a function that stops listening.
   */
  on<K extends keyof BenchmarkSchedulerEvents>(type: K, listener: (detail: BenchmarkSchedulerEvents[K]) => void): () => void;
}

declare global {
  interface Window {
    /** Set by the site once it starts (src/ui/main.ts); absent when the address is invalid. */
    bankingIntent?: BankingIntentAutomation;
  }
}
