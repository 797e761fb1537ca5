/**
 * The summary across rounds: per model, the median of each figure over the last N rounds, so one
 * noisy round (a busy machine, a cold cache) does not decide. One implementation for
 * `npm run bench -- --summary FILE.jsonl` and the page's dashboard (from the rounds in IndexedDB).
 *
 * Rounds are grouped by probe set: figures on different probes are not comparable. The interval
 * given with a median accuracy is the 95% Wilson interval of one round of that many probes at that
 * accuracy: repeating a round re-asks the same probes, so more rounds do not narrow it (they only
 * steady the latencies).
 */
import { median, wilsonInterval, withinEachOther } from './metrics';
import { inScopeAccuracy, type BenchmarkRound, type ModelRoundResult } from './round';

export const DEFAULT_LAST_ROUNDS = 10;

/** One model's medians over the rounds of one probe set in which it answered (status `ok`). */
export interface ModelAcrossRounds {
  model: string;
  /** Rounds of the window (and probe set) that list this model. */
  rounds: number;
  /** Of those, the rounds in which it answered: the medians are over these. */
  answered: number;
  accuracy: number | null;
  /** The 95% interval of one round at the median accuracy and probe count. */
  accuracy_ci95: [number, number] | null;
  /** The lowest and highest accuracy of those rounds. */
  accuracy_range: [number, number] | null;
  in_scope_accuracy: number | null;
  oos_rejected: number | null;
  macro_f1: number | null;
  p50_latency_ms: number | null;
  p95_latency_ms: number | null;
  load_ms: number | null;
  download_bytes: number | null;
}

export interface ProbeSetAcrossRounds {
  probe_set: string;
  /** Probes per round (the probe set's size). */
  n: number;
  rounds: number;
  /** In the order the models first appear. */
  models: ModelAcrossRounds[];
  /** Pairs of models whose median accuracies are each within the other's interval. */
  within_interval: [string, string][];
}

export interface AcrossRounds {
  /** The window asked for. */
  last: number;
  /** Rounds in it (fewer when there are fewer). */
  rounds: number;
  /** Its first and last round's timestamps; null without rounds. */
  from: string | null;
  to: string | null;
  /** One per probe set, the one of the latest round first. */
  probe_sets: ProbeSetAcrossRounds[];
  /** Medians of the peer comparison over the rounds of the window that carry one (`npm run bench`). */
  peer?: { runs: number; size: number; latency_p50: Record<string, number> };
}

/** Medians per model over the last `last` rounds (by timestamp), per probe set. */
export function summarizeAcrossRounds(rounds: readonly BenchmarkRound[], options: { last?: number } = {}): AcrossRounds {
  const last = options.last ?? DEFAULT_LAST_ROUNDS;
  if (!Number.isInteger(last) || last < 1) throw new RangeError(`last must be a whole number >= 1, got ${last}`);
  const window = [...rounds].sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp)).slice(-last);

  const byProbeSet = new Map<string, BenchmarkRound[]>();
  for (const round of [...window].reverse()) byProbeSet.set(round.probe_set.id, [...(byProbeSet.get(round.probe_set.id) ?? []), round]);
  const probe_sets = [...byProbeSet.entries()].map(([id, group]) => summarizeProbeSet(id, group.reverse()));

  const summary: AcrossRounds = {
    last,
    rounds: window.length,
    from: window[0]?.timestamp ?? null,
    to: window.at(-1)?.timestamp ?? null,
    probe_sets,
  };
  const peers = window.flatMap((round) => (round.peer ? [round.peer] : []));
  if (peers.length > 0) {
    const runtimes = [...new Set(peers.flatMap((peer) => Object.keys(peer.ratios.latency_p50 ?? {})))];
    summary.peer = {
      runs: peers.length,
      size: median(peers.map((peer) => peer.ratios.size)),
      latency_p50: Object.fromEntries(
        runtimes.map((runtime) => [
          runtime,
          median(
            peers.flatMap((peer) => (typeof peer.ratios.latency_p50?.[runtime] === 'number' ? [peer.ratios.latency_p50[runtime]] : [])),
          ),
        ]),
      ),
    };
  }
  return summary;
}

function summarizeProbeSet(id: string, rounds: BenchmarkRound[]): ProbeSetAcrossRounds {
  const ids = [...new Set(rounds.flatMap((round) => Object.keys(round.models)))];
  const models = ids.map((model) =>
    summarizeModel(
      model,
      rounds.flatMap((round) => (round.models[model] ? [round.models[model]] : [])),
    ),
  );
  const within_interval: [string, string][] = [];
  const rated = models.filter((m) => m.accuracy !== null && m.accuracy_ci95 !== null);
  rated.forEach((a, i) =>
    rated.slice(i + 1).forEach((b) => {
      if (withinEachOther({ value: a.accuracy!, interval: a.accuracy_ci95! }, { value: b.accuracy!, interval: b.accuracy_ci95! }))
        within_interval.push([a.model, b.model]);
    }),
  );
  return { probe_set: id, n: rounds.at(-1)!.probe_set.n, rounds: rounds.length, models, within_interval };
}

function summarizeModel(model: string, results: ModelRoundResult[]): ModelAcrossRounds {
  const ok = results.filter((r) => r.status === 'ok' && r.n > 0);
  const med = (value: (r: ModelRoundResult) => number | null | undefined): number | null => {
    const values = ok.map(value).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
    return values.length > 0 ? median(values) : null;
  };
  const accuracy = med((r) => r.accuracy);
  const n = med((r) => r.n);
  const accuracies = ok.map((r) => r.accuracy).filter((v): v is number => typeof v === 'number');
  return {
    model,
    rounds: results.length,
    answered: ok.length,
    accuracy,
    accuracy_ci95: accuracy !== null && n !== null ? wilsonInterval(Math.round(accuracy * Math.round(n)), Math.round(n)) : null,
    accuracy_range: accuracies.length > 0 ? [Math.min(...accuracies), Math.max(...accuracies)] : null,
    in_scope_accuracy: med((r) => inScopeAccuracy(r)),
    oos_rejected: med((r) => r.oos_rejected),
    macro_f1: med((r) => r.macro_f1),
    p50_latency_ms: med((r) => r.p50_latency_ms),
    p95_latency_ms: med((r) => r.p95_latency_ms),
    load_ms: med((r) => r.load_ms),
    download_bytes: med((r) => r.download_bytes),
  };
}

/** `3.5 MB`, `812 kB`, `0 B`; `-` for no value. */
export function formatBytes(bytes: number | null | undefined, none = '-'): string {
  if (bytes === null || bytes === undefined) return none;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(0)} kB`;
  return `${Math.round(bytes)} B`;
}

/** The sentence under the table: which models the rounds cannot tell apart on accuracy. */
export function describeWithinInterval(group: ProbeSetAcrossRounds): string {
  if (group.within_interval.length === 0) return '';
  const pairs = group.within_interval.map(([a, b]) => `${a} and ${b}`);
  return (
    `Within each other's 95% interval, so not told apart by these ${group.n} probes on accuracy: ${pairs.join('; ')}. ` +
    'Choose between them on speed, size or cost.'
  );
}

/** The summary as plain text, for the command line: a heading, then a table per probe set. */
export function formatAcrossRounds(summary: AcrossRounds): string[] {
  if (summary.rounds === 0) return ['No benchmark rounds to summarize.'];
  const lines = [
    `Summary across the last ${summary.rounds} ${summary.rounds === 1 ? 'round' : 'rounds'}` +
      (summary.rounds < summary.last ? ` (of ${summary.last} asked for)` : '') +
      `, ${summary.from} to ${summary.to}: medians per model over the rounds it answered.`,
  ];
  const pct = (x: number | null) => (x === null ? '-' : `${(100 * x).toFixed(1)}%`);
  const fixed = (x: number | null, digits = 2) => (x === null ? '-' : x.toFixed(digits));
  const columns: [string, number, (m: ModelAcrossRounds) => string][] = [
    ['rounds', 7, (m) => `${m.answered}/${m.rounds}`],
    ['accuracy', 8, (m) => pct(m.accuracy)],
    ['95% interval', 12, (m) => (m.accuracy_ci95 ? `${(100 * m.accuracy_ci95[0]).toFixed(1)}-${pct(m.accuracy_ci95[1])}` : '-')],
    ['range', 12, (m) => (m.accuracy_range ? `${(100 * m.accuracy_range[0]).toFixed(1)}-${pct(m.accuracy_range[1])}` : '-')],
    ['macro-F1', 8, (m) => pct(m.macro_f1)],
    ['in scope', 8, (m) => pct(m.in_scope_accuracy)],
    ['oos rejected', 12, (m) => pct(m.oos_rejected)],
    ['p50 ms', 8, (m) => fixed(m.p50_latency_ms)],
    ['p95 ms', 8, (m) => fixed(m.p95_latency_ms)],
    ['load ms', 8, (m) => fixed(m.load_ms, 0)],
    ['download', 9, (m) => formatBytes(m.download_bytes)],
  ];
  const row = (first: string, cells: string[]) => [first.padEnd(12), ...cells.map((c, i) => c.padStart(columns[i]![1]))].join('  ');
  for (const group of summary.probe_sets) {
    lines.push('');
    lines.push(`probe set ${group.probe_set} (${group.n} queries), ${group.rounds} ${group.rounds === 1 ? 'round' : 'rounds'}`);
    lines.push(
      row(
        'model',
        columns.map(([head]) => head),
      ),
    );
    for (const m of group.models)
      lines.push(
        row(
          m.model,
          columns.map(([, , value]) => value(m)),
        ),
      );
    const note = describeWithinInterval(group);
    if (note) lines.push(note);
  }
  if (summary.peer) {
    const latency = Object.entries(summary.peer.latency_p50)
      .map(([runtime, ratio]) => `${ratio.toFixed(3)} (${runtime})`)
      .join(' ');
    lines.push('');
    lines.push(
      `peer: custom / DistilBERT-shaped peer, median over ${summary.peer.runs} ${summary.peer.runs === 1 ? 'run' : 'runs'}: ` +
        `size ${summary.peer.size.toFixed(3)}, p50 latency ${latency}`,
    );
  }
  return lines;
}
