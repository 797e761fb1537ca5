/**
 * The dashboard's "Summary across rounds": the median of each figure per model over the last N
 * rounds stored in this browser, computed by src/bench/across-rounds.ts (the same summary as
 * `npm run bench -- --summary FILE.jsonl`), as a table per probe set, then which models those
 * rounds cannot tell apart on accuracy.
 */
import { DEFAULT_LAST_ROUNDS, describeWithinInterval, formatBytes, summarizeAcrossRounds } from '../bench/across-rounds';
import type { ProbeSetAcrossRounds } from '../bench/across-rounds';
import type { BenchmarkRound } from '../bench/round';
import { benchTable, modelRow, scrollBox, type BenchColumn } from './bench-table';
import { milliseconds, percent, percentRange, plural } from './dashboard-format';

const COLUMNS: BenchColumn[] = [
  ['Model'],
  ['Rounds', 'Rounds in which it answered, of the rounds that list it'],
  ['Accuracy', 'Median over those rounds, over all probes'],
  ['95% interval', 'Where the true accuracy plausibly lies, given one round of this many probes'],
  ['Range', 'Lowest and highest accuracy of those rounds'],
  ['Macro-F1', 'Median; every intent weighs the same'],
  ['In-scope accuracy'],
  ['Out-of-scope rejected'],
  ['p50'],
  ['p95'],
  ['Load', 'Median time to load the model'],
  ['Download', 'Median bytes fetched to load it: its files and its runtime'],
];

export class AcrossRoundsView {
  /** Placed by the dashboard after the latest round's table. */
  readonly element: HTMLElement;
  private readonly body: HTMLElement;
  private readonly input: HTMLInputElement;
  private rounds: readonly BenchmarkRound[] = [];
  private last = DEFAULT_LAST_ROUNDS;

  constructor() {
    this.element = document.createElement('section');
    this.element.className = 'bench__across';
    this.element.setAttribute('aria-labelledby', 'bench-across-heading');
    this.element.hidden = true;
    const heading = document.createElement('h3');
    heading.id = 'bench-across-heading';
    heading.textContent = 'Summary across rounds';

    const field = document.createElement('p');
    field.className = 'bench__every';
    const label = document.createElement('label');
    label.className = 'field-label';
    label.htmlFor = 'bench-across-last';
    label.textContent = 'Over the last';
    this.input = document.createElement('input');
    this.input.id = 'bench-across-last';
    this.input.type = 'number';
    this.input.min = '1';
    this.input.step = '1';
    this.input.inputMode = 'numeric';
    this.input.value = String(this.last);
    const unit = document.createElement('span');
    unit.className = 'hint';
    unit.textContent = 'rounds (median per model)';
    field.append(label, ' ', this.input, ' ', unit);
    this.input.addEventListener('change', () => {
      const value = Number(this.input.value);
      if (Number.isInteger(value) && value >= 1) this.last = value;
      this.input.value = String(this.last);
      this.render();
    });

    this.body = document.createElement('div');
    this.element.append(heading, field, this.body);
  }

  update(rounds: readonly BenchmarkRound[]): void {
    this.rounds = rounds;
    this.render();
  }

  private render(): void {
    // One round has no "across": the latest round's table says it all.
    this.element.hidden = this.rounds.length < 2;
    if (this.element.hidden) return;
    const summary = summarizeAcrossRounds(this.rounds, { last: this.last });
    const parts: HTMLElement[] = [];
    for (const group of summary.probe_sets) parts.push(table(group), ...note(group));
    if (summary.peer) {
      const latency = Object.entries(summary.peer.latency_p50)
        .map(([runtime, ratio]) => `${ratio.toFixed(3)} (${runtime})`)
        .join(', ');
      parts.push(
        paragraph(
          'hint',
          `Beside the DistilBERT-shaped peer (median of ${plural(summary.peer.runs, 'run')}): ` +
            `${summary.peer.size.toFixed(3)} of its size, ${latency} of its median latency.`,
        ),
      );
    }
    this.body.replaceChildren(...parts);
  }
}

function table(group: ProbeSetAcrossRounds): HTMLElement {
  const element = benchTable(
    `Medians over ${plural(group.rounds, 'round')} on probe set ${group.probe_set} (${group.n} probe queries).`,
    COLUMNS,
    1,
  );
  for (const m of group.models) {
    const row = modelRow(element, m.model);
    for (const text of [
      `${m.answered}/${m.rounds}`,
      percent(m.accuracy),
      percentRange(m.accuracy_ci95),
      percentRange(m.accuracy_range),
      percent(m.macro_f1),
      percent(m.in_scope_accuracy),
      percent(m.oos_rejected),
      milliseconds(m.p50_latency_ms),
      milliseconds(m.p95_latency_ms),
      milliseconds(m.load_ms),
      formatBytes(m.download_bytes, '—'),
    ]) {
      const cell = row.insertCell();
      cell.className = 'num';
      cell.textContent = text;
    }
  }
  return scrollBox(element, 'Summary across rounds, per model');
}

function note(group: ProbeSetAcrossRounds): HTMLElement[] {
  const text = describeWithinInterval(group);
  return text ? [paragraph('bench__within', text)] : [];
}

function paragraph(className: string, text: string): HTMLParagraphElement {
  const p = document.createElement('p');
  p.className = className;
  p.textContent = text;
  return p;
}
