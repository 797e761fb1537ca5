/**
 * Benchmark rounds as JSON Lines (`benchmark_results.jsonl`): one round per line, the record of
 * `round.ts` as is. Export, strict parsing with line numbers, merging without duplicates, and a
 * download in the page. Rounds recorded before the out-of-scope fields existed still parse.
 */
import type { BenchmarkRound } from './round';
import { ConfigError, InvalidInputError } from '../core/errors';

/** One line per round, each ending in a newline; the empty string for no rounds. */
export function exportJsonl(rounds: readonly BenchmarkRound[]): string {
  return rounds.map((round) => JSON.stringify(round) + '\n').join('');
}

export interface JsonlLineError {
  /** 1-based line number in the text. */
  line: number;
  message: string;
}

/** A JSONL text with lines that are not benchmark rounds; `errors` names every such line. */
export class JsonlParseError extends InvalidInputError {
  readonly errors: JsonlLineError[];
  constructor(options: { errors: JsonlLineError[] }) {
    const { errors } = options;
    const shown = errors.slice(0, 5).map((e) => `line ${e.line}: ${e.message}`);
    const more = errors.length > 5 ? `; and ${errors.length - 5} more` : '';
    super(`Not a benchmark results file: ${shown.join('; ')}${more}`);
    this.name = 'JsonlParseError';
    this.errors = errors;
  }
}

/**
 * Rounds from JSONL text. Blank lines (and `\r\n` endings) are accepted; any other line that is
 * not JSON or not a round makes the whole parse fail with a `JsonlParseError` listing every bad
 * line, so a half-read file is never imported as if it were whole.
 */
export function parseJsonl(text: string): BenchmarkRound[] {
  const rounds: BenchmarkRound[] = [];
  const errors: JsonlLineError[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      errors.push({ line: index + 1, message: `not valid JSON (${error instanceof Error ? error.message : String(error)})` });
      return;
    }
    const problem = roundProblem(value);
    if (problem) errors.push({ line: index + 1, message: `not a benchmark round: ${problem}` });
    else rounds.push(value as BenchmarkRound);
  });
  if (errors.length > 0) throw new JsonlParseError({ errors });
  return rounds;
}

/** What makes two records the same round. */
export function roundIdentity(round: BenchmarkRound): string {
  return JSON.stringify([round.timestamp, round.probe_set.id, round.request_count, round.trigger]);
}

/**
 * `existing` (untouched, in order) followed by the rounds of `imported` not already there, in
 * their order; a round repeated within `imported` is added once.
 */
export function mergeRounds(existing: readonly BenchmarkRound[], imported: readonly BenchmarkRound[]): BenchmarkRound[] {
  const seen = new Set(existing.map(roundIdentity));
  const merged = [...existing];
  for (const round of imported) {
    const identity = roundIdentity(round);
    if (seen.has(identity)) continue;
    seen.add(identity);
    merged.push(round);
  }
  return merged;
}

/** Saves the rounds as a file through the browser's download (a temporary `<a download>`). */
export function downloadJsonl(rounds: readonly BenchmarkRound[], filename = 'benchmark_results.jsonl'): void {
  if (typeof document === 'undefined')
    throw new ConfigError('downloadJsonl needs a page (document); in Node write exportJsonl(rounds) to a file.');
  const url = URL.createObjectURL(new Blob([exportJsonl(rounds)], { type: 'application/x-ndjson' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.style.display = 'none';
  document.body.append(link);
  link.click();
  link.remove();
  // Some browsers start the download after click() returns: free the URL a little later.
  setTimeout(() => URL.revokeObjectURL(url), 1_000);
}

const TRIGGERS = ['auto', 'manual', 'cli'];
const STATUSES = ['ok', 'unavailable', 'cooling_down', 'failed'];
const METRICS = ['avg_latency_ms', 'p50_latency_ms', 'p95_latency_ms', 'p99_latency_ms', 'accuracy', 'mean_confidence'] as const;
/** Absent from rounds recorded before the probe set had out-of-scope probes, or before macro-F1 and load figures were kept. */
const OPTIONAL_METRICS = ['in_scope_accuracy', 'oos_rejected', 'in_scope_rejected', 'macro_f1', 'load_ms'] as const;
const OPTIONAL_COUNTS = ['n_in_scope', 'n_oos'] as const;

/** The first thing that keeps `value` from being a round, or undefined when it is one. */
function roundProblem(value: unknown): string | undefined {
  if (!isObject(value)) return 'expected a JSON object';
  if (typeof value.timestamp !== 'string' || Number.isNaN(Date.parse(value.timestamp))) return 'timestamp is not an ISO date';
  if (!isCount(value.request_count)) return 'request_count is not a whole number >= 0';
  if (typeof value.trigger !== 'string' || !TRIGGERS.includes(value.trigger)) return `trigger is not one of ${TRIGGERS.join(', ')}`;
  if (!isObject(value.probe_set) || typeof value.probe_set.id !== 'string' || !isCount(value.probe_set.n))
    return 'probe_set needs id and n';
  if (!isObject(value.models)) return 'models is not an object';
  for (const [id, model] of Object.entries(value.models)) {
    if (!isObject(model)) return `models.${id} is not an object`;
    if (typeof model.status !== 'string' || !STATUSES.includes(model.status))
      return `models.${id}.status is not one of ${STATUSES.join(', ')}`;
    if (!isCount(model.n) || !isCount(model.errors)) return `models.${id} needs counts n and errors`;
    for (const key of METRICS) {
      if (model[key] !== null && typeof model[key] !== 'number') return `models.${id}.${key} is neither a number nor null`;
    }
    for (const key of OPTIONAL_METRICS) {
      if (model[key] !== undefined && model[key] !== null && typeof model[key] !== 'number')
        return `models.${id}.${key} is neither a number nor null`;
    }
    for (const key of OPTIONAL_COUNTS) {
      if (model[key] !== undefined && !isCount(model[key])) return `models.${id}.${key} is not a whole number >= 0`;
    }
    if (model.download_bytes !== undefined && model.download_bytes !== null && !isCount(model.download_bytes))
      return `models.${id}.download_bytes is neither a whole number >= 0 nor null`;
    const ci = model.accuracy_ci95;
    if (
      ci !== undefined &&
      ci !== null &&
      !(Array.isArray(ci) && ci.length === 2 && ci.every((v) => typeof v === 'number' && v >= 0 && v <= 1) && ci[0] <= ci[1])
    ) {
      return `models.${id}.accuracy_ci95 is neither [lo, hi] within 0-1 nor null`;
    }
    if (
      model.latencies_ms !== undefined &&
      !(Array.isArray(model.latencies_ms) && model.latencies_ms.every((v) => typeof v === 'number'))
    ) {
      return `models.${id}.latencies_ms is not a list of numbers`;
    }
  }
  if (!isObject(value.summary) || typeof value.summary.recommendation !== 'string') return 'summary needs a recommendation';
  if (!isObject(value.environment)) return 'environment is not an object';
  if (value.peer !== undefined && !(isObject(value.peer) && isObject(value.peer.ratios) && isObject(value.peer.models)))
    return 'peer needs ratios and models';
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}
