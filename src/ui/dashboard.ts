/**
 * The "Benchmarks" section: the automatic-round setting, "Run benchmark now", JSONL export and
 * import, a live status line, the latest round as a table and, drawn by the lazily loaded
 * `dashboard-charts.ts` (Chart.js), latency distributions and per-round trends.
 */
import { JsonlParseError, downloadJsonl } from '../bench/jsonl';
import { inScopeAccuracy, type BenchmarkRound, type ModelRoundResult, type RoundProgress } from '../bench/round';
import type { StoreStatus } from '../bench/store';
import { describeThreads } from '../bench/environment';
import type { Device } from '../core/prediction';
import type { SiteBenchmarks } from './benchmarks';
import { readBenchEvery } from './config';
import type { DashboardCharts } from './dashboard-charts';
import { AcrossRoundsView } from './dashboard-across';
import { formatBytes } from '../bench/across-rounds';
import { benchTable, modelRow, scrollBox, type BenchColumn } from './bench-table';
import { formatTime, milliseconds, percent, percentRange, plural } from './dashboard-format';
import { InvalidInputError } from '../core/errors';
import { pageElement } from './page-element';

export interface DashboardView {
  section: HTMLElement;
  warning: HTMLElement;
  every: HTMLInputElement;
  run: HTMLButtonElement;
  exportButton: HTMLButtonElement;
  importButton: HTMLButtonElement;
  importFile: HTMLInputElement;
  status: HTMLElement;
  notice: HTMLElement;
  error: HTMLElement;
  latest: HTMLElement;
  charts: HTMLElement;
}

export function findDashboardView(root: Document): DashboardView {
  const get = <T extends HTMLElement>(id: string, type: { new (): T }): T => pageElement(root, id, type);
  return {
    section: get('benchmarks', HTMLElement),
    warning: get('bench-warning', HTMLElement),
    every: get('bench-every', HTMLInputElement),
    run: get('bench-run', HTMLButtonElement),
    exportButton: get('bench-export', HTMLButtonElement),
    importButton: get('bench-import', HTMLButtonElement),
    importFile: get('bench-import-file', HTMLInputElement),
    status: get('bench-status', HTMLElement),
    notice: get('bench-notice', HTMLElement),
    error: get('bench-error', HTMLElement),
    latest: get('bench-latest', HTMLElement),
    charts: get('bench-charts', HTMLElement),
  };
}

interface Running {
  trigger: string;
  progress?: RoundProgress;
}

export class Dashboard {
  private rounds: BenchmarkRound[] = [];
  private loaded = false;
  private running: Running | undefined;
  private charts: Promise<DashboardCharts> | undefined;
  /** Reads of the store may finish out of order: only the latest one is drawn. */
  private reloads = 0;
  /** The summary across rounds, under the latest round's table. */
  private readonly across = new AcrossRoundsView();

  constructor(
    private readonly view: DashboardView,
    private readonly bench: SiteBenchmarks,
  ) {}

  start(): void {
    const { view, bench } = this;
    const { scheduler } = bench;
    view.section.hidden = false;
    view.every.value = String(scheduler.every);

    view.every.addEventListener('change', () => this.setEvery());
    view.run.addEventListener('click', () => {
      this.clearMessages();
      // Failures are shown by the `round-error` listener below.
      scheduler.runNow('manual').catch(() => undefined);
      this.renderStatus();
    });
    view.exportButton.addEventListener('click', () => void this.exportRounds());
    view.importButton.addEventListener('click', () => view.importFile.click());
    view.importFile.addEventListener('change', () => void this.importFile());

    scheduler.on('round-start', ({ trigger }) => {
      this.running = { trigger };
      this.renderStatus();
    });
    scheduler.on('round-progress', (progress) => {
      if (this.running) this.running.progress = progress;
      this.renderStatus();
    });
    scheduler.on('round', () => {
      this.running = undefined;
      void this.reload();
    });
    scheduler.on('round-error', ({ error, round }) => {
      if (round) {
        this.showError(`A benchmark round finished but could not be saved: ${messageOf(error)}`);
        return; // the `round` event follows
      }
      this.running = undefined;
      this.showError(`The benchmark round failed: ${messageOf(error)}`);
      void this.reload();
    });
    bench.requests.addEventListener('request', () => this.renderStatus());

    void bench.store.then((store) => {
      this.showStoreStatus(store.status);
      store.addEventListener('status', () => this.showStoreStatus(store.status));
      // The "Storage" panel's Clear: the table and charts go with the rounds.
      store.addEventListener('cleared', () => void this.reload());
    });
    this.renderStatus();
    void this.reload();
  }

  /** Reads every round from the store and redraws the table and charts. */
  private async reload(): Promise<void> {
    const reload = ++this.reloads;
    const rounds = await this.bench.rounds();
    if (reload !== this.reloads) return;
    this.rounds = rounds;
    this.loaded = true;
    this.view.exportButton.disabled = rounds.length === 0;
    this.renderStatus();
    renderLatest(this.view.latest, rounds.at(-1));
    if (!this.across.element.isConnected) this.view.latest.after(this.across.element);
    this.across.update(rounds);
    await this.drawCharts(rounds);
  }

  private async drawCharts(rounds: BenchmarkRound[]): Promise<void> {
    const { charts } = this.view;
    if (rounds.length === 0) {
      charts.hidden = true;
      return;
    }
    charts.hidden = false;
    try {
      this.charts ??= import('./dashboard-charts').then(({ DashboardCharts }) => new DashboardCharts(charts));
      (await this.charts).update(rounds);
    } catch (error) {
      this.charts = undefined;
      charts.replaceChildren(paragraph('hint', `The charts could not be loaded: ${messageOf(error)}`));
    }
  }

  private renderStatus(): void {
    const { scheduler } = this.bench;
    const { running } = this;
    let text: string;
    if (running) {
      const progress = running.progress;
      text = `Running a${running.trigger === 'auto' ? 'n automatic' : ` ${running.trigger}`} benchmark round: `;
      text += progress ? `${progress.model} ${progress.done}/${progress.total}` : 'starting…';
      if (scheduler.queued) text += '. Another round is queued.';
    } else {
      const count = this.rounds.length;
      text = this.loaded ? `${count} ${count === 1 ? 'round' : 'rounds'} stored.` : 'Reading stored rounds…';
      const next = scheduler.requestsUntilNext;
      text +=
        next === null ? ' Automatic rounds are off.' : ` Next automatic round after ${next} more ${next === 1 ? 'request' : 'requests'}.`;
    }
    this.view.status.textContent = text;
    this.view.status.dataset.state = running ? 'running' : 'idle';
  }

  private showStoreStatus(status: StoreStatus): void {
    const { warning } = this.view;
    warning.hidden = status.persistent;
    if (status.persistent) {
      warning.replaceChildren();
      return;
    }
    const headline = document.createElement('strong');
    headline.textContent = 'Not saved on this device:';
    warning.replaceChildren(headline, ` ${status.warning ?? 'the browser did not let this page store them.'}`);
  }

  private setEvery(): void {
    const { every } = this.view;
    this.clearMessages();
    let value: number;
    try {
      if (every.validity.badInput) throw new InvalidInputError('not a number');
      value = readBenchEvery(every.value);
    } catch {
      this.showError('Run every: enter a whole number of requests, 0 to turn automatic rounds off.');
      every.value = String(this.bench.scheduler.every);
      return;
    }
    this.bench.scheduler.every = value;
    every.value = String(value);
    // Like the model selector: the address keeps the setting, so a reload or a link keeps it.
    const url = new URL(location.href);
    url.searchParams.set('bench', String(value));
    history.replaceState(history.state, '', url);
    this.renderStatus();
  }

  private async exportRounds(): Promise<void> {
    this.clearMessages();
    try {
      const rounds = await this.bench.rounds();
      downloadJsonl(rounds);
      this.view.notice.textContent = `Exported ${plural(rounds.length, 'round')} to benchmark_results.jsonl.`;
    } catch (error) {
      this.showError(`Could not export the rounds: ${messageOf(error)}`);
    }
  }

  private async importFile(): Promise<void> {
    const input = this.view.importFile;
    const file = input.files?.[0];
    if (!file) return;
    this.clearMessages();
    try {
      const { read, added } = await this.bench.importJsonl(await file.text());
      const skipped = read - added;
      this.view.notice.textContent =
        `Imported ${plural(added, 'new round')} from ${file.name}` + (skipped > 0 ? ` (${plural(skipped, 'round')} already stored).` : '.');
    } catch (error) {
      if (error instanceof JsonlParseError) this.showParseErrors(file.name, error);
      else this.showError(`Could not import ${file.name}: ${messageOf(error)}`);
    } finally {
      input.value = ''; // the same file may be chosen again
      void this.reload();
    }
  }

  private showParseErrors(name: string, error: JsonlParseError): void {
    const { view } = this;
    const list = document.createElement('ul');
    list.className = 'bench__line-errors';
    for (const { line, message } of error.errors.slice(0, 20)) {
      list.append(listItem(`Line ${line}: ${message}`));
    }
    if (error.errors.length > 20) list.append(listItem(`…and ${error.errors.length - 20} more lines.`));
    view.error.replaceChildren(paragraph(undefined, `${name} was not imported: it is not a benchmark results file.`), list);
    view.error.hidden = false;
  }

  private showError(message: string): void {
    this.view.error.replaceChildren(message);
    this.view.error.hidden = false;
  }

  private clearMessages(): void {
    this.view.error.hidden = true;
    this.view.error.replaceChildren();
    this.view.notice.textContent = '';
  }
}

const DEVICES: Record<Device, string> = { webgpu: 'WebGPU', wasm: 'WASM', cpu: 'CPU', remote: 'Remote' };
const STATUSES: Record<ModelRoundResult['status'], string> = {
  ok: 'OK',
  unavailable: 'Unavailable',
  cooling_down: 'Cooling down',
  failed: 'Failed',
};

/** Column heads, with a tooltip where the name alone could be read two ways. */
const COLUMNS: BenchColumn[] = [
  ['Model'],
  ['Status'],
  ['Device'],
  ['n', 'Probes answered'],
  ['Accuracy', 'Over all probes: an out-of-scope probe is right when the model answers out_of_scope'],
  [
    '95% interval',
    'Where the true accuracy plausibly lies, given this many probes: two models inside each other’s interval are not told apart',
  ],
  ['Macro-F1', 'The mean F1 over the probes’ labels: every intent weighs the same'],
  ['In-scope accuracy', 'Over the banking probes only: an out_of_scope answer is wrong'],
  ['Out-of-scope rejected', 'Share of the out-of-scope probes the model answered out_of_scope (higher is better)'],
  ['In-scope rejected', 'Share of the banking probes the model wrongly answered out_of_scope (lower is better)'],
  ['Mean confidence'],
  ['p50'],
  ['p95'],
  ['p99'],
  ['Errors'],
  ['Load', 'How long the model took to load (at page start, or in the round)'],
  ['Download', 'Bytes fetched to load it: its files and its runtime (0 for a remote model)'],
];

/** The latest round: a table with a row per model (and its reason under it), then the recommendation. */
function renderLatest(container: HTMLElement, round: BenchmarkRound | undefined): void {
  if (!round) {
    container.replaceChildren(
      paragraph('hint', 'No benchmark rounds yet. One runs automatically after the set number of requests, or run one now.'),
    );
    return;
  }

  const caption =
    `Latest round, ${formatTime(round.timestamp)}: ${round.trigger === 'auto' ? 'automatic' : round.trigger}, ` +
    `after ${plural(round.request_count, 'request')}, ${round.probe_set.n} probe queries` +
    (round.probe_set.intents === undefined ? '.' : ` over ${plural(round.probe_set.intents, 'intent')}.`);
  const table = benchTable(caption, COLUMNS, 3);
  for (const [id, model] of Object.entries(round.models)) {
    const row = modelRow(table, id);
    row.dataset.status = model.status;
    const cells: [string, string?][] = [
      [STATUSES[model.status], `status status--${model.status}`],
      [model.device ? DEVICES[model.device] : '—'],
      [String(model.n), 'num'],
      [percent(model.accuracy), 'num'],
      [percentRange(model.accuracy_ci95), 'num'],
      [percent(model.macro_f1), 'num'],
      [percent(inScopeAccuracy(model)), 'num'],
      // Rejecting none of the out-of-scope probes is the failure this column is here to show.
      [percent(model.oos_rejected), model.oos_rejected === 0 ? 'num num--bad' : 'num'],
      [percent(model.in_scope_rejected), 'num'],
      [percent(model.mean_confidence), 'num'],
      [milliseconds(model.p50_latency_ms), 'num'],
      [milliseconds(model.p95_latency_ms), 'num'],
      [milliseconds(model.p99_latency_ms), 'num'],
      [String(model.errors), model.errors > 0 ? 'num num--bad' : 'num'],
      [milliseconds(model.load_ms), 'num'],
      [formatBytes(model.download_bytes, '—'), 'num'],
    ];
    for (const [text, className] of cells) {
      const cell = row.insertCell();
      cell.textContent = text;
      if (className) cell.className = className;
    }
    if (model.reason) {
      const reasonRow = table.tBodies[0]!.insertRow();
      reasonRow.className = 'bench-table__reason';
      reasonRow.insertCell(); // under the model's name
      const reason = reasonRow.insertCell();
      reason.colSpan = COLUMNS.length - 1;
      reason.textContent = model.reason;
    }
  }

  const scroller = scrollBox(table, 'Latest round, per model');
  const recommendation = paragraph('bench__recommendation', round.summary.recommendation);
  container.replaceChildren(scroller, recommendation, paragraph('hint bench__environment', describeEnvironment(round)));
}

function describeEnvironment(round: BenchmarkRound): string {
  const { webgpu, hardware_concurrency: cpus } = round.environment;
  const gpu = webgpu
    ? `WebGPU adapter ${[webgpu.vendor, webgpu.architecture].filter(Boolean).join(' ') || 'present'}`
    : 'no WebGPU adapter';
  const threads = describeThreads(round.environment);
  return `Probe set ${round.probe_set.id}; ${gpu}${cpus ? `, ${cpus} logical CPUs` : ''}${threads ? `; ${threads}` : ''}.`;
}

function paragraph(className: string | undefined, text: string): HTMLParagraphElement {
  const p = document.createElement('p');
  if (className) p.className = className;
  p.textContent = text;
  return p;
}

function listItem(text: string): HTMLLIElement {
  const li = document.createElement('li');
  li.textContent = text;
  return li;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
