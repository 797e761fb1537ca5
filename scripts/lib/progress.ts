/**
 * Progress for long work (train, eval, bench, merge-qlora): a bar with the time left
 * (cli-progress) when both standard output and standard error are terminals; otherwise, so that
 * logs and tests stay clean, no bar: a plain line on standard error at most once a minute
 * (`done/total, elapsed, about N left`), and nothing at all for work shorter than that.
 *
 *   const progress = startProgress({ title: 'eval', total: rows.length, unit: 'rows' });
 *   progress.increment();
 *   progress.log('a line for standard output'); // printed above the bar
 *   progress.stop();
 *
 * BANKING_INTENT_PROGRESS=bar|lines|off overrides the choice (`lines` prints every QUIET_EVERY_MS).
 */
// cli-progress is CommonJS: Node's ESM loader finds MultiBar and Presets as named exports, not Format.
import cliProgress, { type Options, type Params, type SingleBar } from 'cli-progress';

const { Format, MultiBar, Presets } = cliProgress;
import { onFailure } from './cli';

export interface Progress {
  /** Sets how much is done. */
  update(done: number): void;
  increment(by?: number): void;
  /** Changes the total (when it becomes known later). */
  setTotal(total: number): void;
  /** A line for standard output (or `stderr`) that does not break the bar. */
  log(line: string, to?: 'stdout' | 'stderr'): void;
  /** Removes the bar; later `log` lines go straight to standard output. Safe to call twice. */
  stop(): void;
  readonly done: number;
  readonly total: number;
}

export interface ProgressOptions {
  title: string;
  total: number;
  /** What is counted: rows, epochs, tensors (default: items). */
  unit?: string;
  /** Quiet mode: one line at most this often (default 60 s). */
  quietEveryMs?: number;
}

type Mode = 'bar' | 'lines' | 'off';

/** `bar` on a terminal, `lines` otherwise (see the module comment). */
export function progressMode(env: NodeJS.ProcessEnv = process.env): Mode {
  const forced = env.BANKING_INTENT_PROGRESS;
  if (forced === 'bar' || forced === 'lines' || forced === 'off') return forced;
  const terminal = process.stdout.isTTY && process.stderr.isTTY && env.TERM !== 'dumb' && !env.CI;
  return terminal ? 'bar' : 'lines';
}

const QUIET_EVERY_MS = 60_000;

export function startProgress(options: ProgressOptions): Progress {
  const mode = progressMode();
  return mode === 'bar' ? barProgress(options) : quietProgress(options, mode);
}

/** "1 h 02 min", "4 min 05 s", "12 s". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

function barProgress(options: ProgressOptions): Progress {
  const unit = options.unit ?? 'items';
  const multibar = new MultiBar(
    {
      stream: process.stderr,
      format: (barOptions: Options, params: Params) => {
        const elapsed = (Date.now() - params.startTime) / 1000;
        // No estimate before the first step is done (cli-progress would print "INF" or "NULL").
        const left = params.value > 0 && Number.isFinite(params.eta) ? formatDuration(params.eta) : '?';
        const percent = Math.floor(params.progress * 100);
        return `${options.title} [${Format.BarFormat(params.progress, barOptions)}] ${percent}% | ${params.value}/${params.total} ${unit} | ${formatDuration(elapsed)} elapsed | ${left} left`;
      },
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      etaBuffer: 50,
      etaAsynchronousUpdate: true,
      fps: 5,
      gracefulExit: true,
    },
    Presets.shades_classic,
  );
  const bar: SingleBar = multibar.create(Math.max(1, options.total), 0);
  let total = options.total;
  let done = 0;
  let active = true;
  const stop = () => {
    if (!active) return;
    active = false;
    unregister();
    multibar.update();
    multibar.stop();
  };
  const unregister = onFailure(stop);
  return {
    get done() {
      return done;
    },
    get total() {
      return total;
    },
    update(value) {
      done = value;
      if (active) bar.update(Math.min(value, total));
    },
    increment(by = 1) {
      this.update(done + by);
    },
    setTotal(value) {
      total = value;
      if (active) bar.setTotal(Math.max(1, value));
    },
    log(line, to = 'stdout') {
      if (!active) return void process[to].write(line + '\n');
      multibar.log(line + '\n');
      multibar.update();
    },
    stop,
  };
}

function quietProgress(options: ProgressOptions, mode: 'lines' | 'off'): Progress {
  const unit = options.unit ?? 'items';
  const every = options.quietEveryMs ?? QUIET_EVERY_MS;
  const started = performance.now();
  let last = started;
  let total = options.total;
  let done = 0;
  let active = true;
  return {
    get done() {
      return done;
    },
    get total() {
      return total;
    },
    update(value) {
      done = value;
      const now = performance.now();
      if (!active || mode === 'off' || now - last < every || done >= total) return;
      last = now;
      const elapsed = (now - started) / 1000;
      const left = done > 0 ? (elapsed / done) * (total - done) : Number.NaN;
      const percent = total > 0 ? ` (${Math.floor((100 * done) / total)}%)` : '';
      process.stderr.write(
        `${options.title}: ${done}/${total} ${unit}${percent}, ${formatDuration(elapsed)} elapsed, about ${formatDuration(left)} left\n`,
      );
    },
    increment(by = 1) {
      this.update(done + by);
    },
    setTotal(value) {
      total = value;
    },
    log(line, to = 'stdout') {
      process[to].write(line + '\n');
    },
    stop() {
      active = false;
    },
  };
}
