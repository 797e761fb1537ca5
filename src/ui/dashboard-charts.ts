/**
 * The Benchmarks charts, with Chart.js (only the pieces registered below are bundled). Loaded on
 * demand by dashboard.ts, in its own chunk, once there is a round to draw:
 *
 * - latency distribution of the latest round: a histogram per model, from `latencies_ms`;
 * - in-scope accuracy per model across rounds (the one accuracy rounds from before the probe set
 *   had out-of-scope probes share with later ones, so the line does not jump where it changed);
 * - p50 (solid) and p99 (dashed) latency per model across rounds.
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  PointElement,
  Tooltip,
  type ChartConfiguration,
} from 'chart.js';
import { inScopeAccuracy, type BenchmarkRound } from '../bench/round';
import { axisTimes, formatTime, milliseconds as ms, percent as pct, plural } from './dashboard-format';

Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  LinearScale,
  LogarithmicScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  Legend,
);

/** One colour per model, the same in every chart; the site's brand blue for the on-device model. */
const MODEL_COLOURS: Record<string, string> = { custom: '#1f4e79', 'llama-qlora': '#7b4fa8', vllm: '#c0561d', gemini: '#2f8a57' };
const SPARE_COLOURS = ['#b8336a', '#4a7f8c', '#8a6d1d'];
/** Legend entries drawn as short lines (dashed for p99), like the series they name. */
const LINE_LEGEND = { labels: { boxWidth: 28, boxHeight: 2 } };

export class DashboardCharts {
  private readonly charts: Chart[] = [];
  /** MODEL_COLOURS as the page's colour scheme draws them. */
  private readonly themed: Record<string, string> = {};
  private readonly distribution: HTMLElement;
  private readonly accuracy: HTMLCanvasElement;
  private readonly latency: HTMLCanvasElement;
  /** The two per-round charts, hidden while no model has answered in any round. */
  private readonly trends: HTMLElement[];

  constructor(container: HTMLElement) {
    const style = getComputedStyle(container);
    Chart.defaults.font.family = style.fontFamily;
    Chart.defaults.color = style.getPropertyValue('--muted').trim() || '#5b6b7b';
    // Grid lines in the page's line colour, so they stay faint but visible in the dark palette too.
    Chart.defaults.borderColor = style.getPropertyValue('--line').trim() || Chart.defaults.borderColor;
    // The stylesheet may give a model a lighter line for the dark palette (`--chart-custom`, …).
    for (const id of Object.keys(MODEL_COLOURS)) this.themed[id] = style.getPropertyValue(`--chart-${id}`).trim() || MODEL_COLOURS[id]!;
    Chart.defaults.animation = false;
    Chart.defaults.maintainAspectRatio = false;

    this.distribution = document.createElement('div');
    this.distribution.className = 'bench-charts__grid';
    this.accuracy = document.createElement('canvas');
    this.latency = document.createElement('canvas');
    this.trends = [
      figure('In-scope accuracy across rounds', frame(this.accuracy)),
      figure('Latency across rounds: p50 (solid) and p99 (dashed)', frame(this.latency)),
    ];
    container.replaceChildren(figure('Latency distribution, latest round', this.distribution), ...this.trends);
  }

  /** Redraws every chart for `rounds` (oldest first). */
  update(rounds: readonly BenchmarkRound[]): void {
    for (const chart of this.charts.splice(0)) chart.destroy();
    const latest = rounds.at(-1);
    if (!latest) return;
    const ids = modelIds(rounds);
    const colour = (id: string) => this.themed[id] ?? SPARE_COLOURS[ids.indexOf(id) % SPARE_COLOURS.length]!;
    // Models that never answered (not configured, say) would only add empty legend entries.
    const measured = ids.filter((id) => rounds.some((round) => round.models[id]?.p50_latency_ms != null));

    this.drawDistributions(latest, colour);
    for (const trend of this.trends) trend.hidden = measured.length === 0;
    this.drawAccuracy(rounds, measured, colour);
    this.drawLatency(rounds, measured, colour);
  }

  private drawDistributions(round: BenchmarkRound, colour: (id: string) => string): void {
    const answered = Object.entries(round.models).filter(([, m]) => (m.latencies_ms?.length ?? 0) > 0);
    if (answered.length === 0) {
      const none = document.createElement('p');
      none.className = 'hint';
      none.textContent = 'No model answered a probe in the latest round.';
      this.distribution.replaceChildren(none);
      return;
    }
    this.distribution.replaceChildren();
    for (const [id, model] of answered) {
      const latencies = model.latencies_ms!;
      const bins = histogram(latencies);
      const canvas = document.createElement('canvas');
      canvas.setAttribute('role', 'img');
      canvas.setAttribute(
        'aria-label',
        `${id}: latency histogram of ${latencies.length} probes, p50 ${model.p50_latency_ms} ms, p99 ${model.p99_latency_ms} ms`,
      );
      const cell = document.createElement('div');
      cell.className = 'bench-charts__cell';
      cell.dataset.model = id;
      const title = document.createElement('p');
      title.className = 'bench-charts__label';
      title.textContent = `${id} · ${latencies.length} probes · p50 ${ms(model.p50_latency_ms)} · p99 ${ms(model.p99_latency_ms)}`;
      cell.append(title, frame(canvas, 'small'));
      this.distribution.append(cell);

      const config: ChartConfiguration<'bar', number[], string> = {
        type: 'bar',
        data: {
          labels: bins.map(binLabel),
          datasets: [
            { label: id, data: bins.map((bin) => bin.count), backgroundColor: colour(id), barPercentage: 1, categoryPercentage: 0.94 },
          ],
        },
        options: {
          plugins: {
            legend: { display: false },
            tooltip: {
              callbacks: {
                title: (items) => {
                  const bin = bins[items[0]?.dataIndex ?? 0]!;
                  return `${trim(bin.from)}–${trim(bin.to)} ms${bin.overflow ? ' (the slowest)' : ''}`;
                },
                label: (item) => plural(item.parsed.y ?? 0, 'probe'),
              },
            },
          },
          scales: {
            x: { title: { display: true, text: 'latency (ms)' }, grid: { display: false }, ticks: { maxRotation: 0, autoSkipPadding: 6 } },
            y: { title: { display: true, text: 'probes' }, beginAtZero: true, ticks: { precision: 0 } },
          },
        },
      };
      this.charts.push(new Chart(canvas, config));
    }
  }

  private drawAccuracy(rounds: readonly BenchmarkRound[], ids: string[], colour: (id: string) => string): void {
    if (ids.length === 0) return;
    const datasets = ids.map((id) => ({
      label: id,
      data: rounds.map((r) => {
        const accuracy = inScopeAccuracy(r.models[id]);
        return accuracy === null ? null : 100 * accuracy;
      }),
      borderColor: colour(id),
      backgroundColor: colour(id),
      ...lineStyle(rounds.length),
    }));
    const latest = rounds.at(-1)!;
    // Accuracies sit close together: start the axis at the 10% step below the lowest, not at 0.
    const lowest = Math.min(...datasets.flatMap((d) => d.data).filter((v): v is number => v !== null));
    const min = Math.max(0, Math.floor((lowest - 5) / 10) * 10);
    this.accuracy.setAttribute('role', 'img');
    this.accuracy.setAttribute(
      'aria-label',
      `In-scope accuracy per model across ${rounds.length} rounds; latest: ` +
        ids.map((id) => `${id} ${pct(inScopeAccuracy(latest.models[id]))}`).join(', '),
    );
    const config: ChartConfiguration<'line', (number | null)[], string> = {
      type: 'line',
      data: { labels: axisTimes(rounds.map((r) => r.timestamp)), datasets },
      options: {
        plugins: {
          legend: LINE_LEGEND,
          tooltip: {
            callbacks: {
              title: (items) => roundTitle(rounds, items[0]?.dataIndex),
              label: (item) => `${item.dataset.label}: ${pct(item.parsed.y === null ? null : item.parsed.y / 100)}`,
            },
          },
        },
        scales: {
          x: { ticks: { maxRotation: 0, autoSkipPadding: 12 } },
          y: {
            min,
            max: 100,
            title: { display: true, text: 'in-scope accuracy' },
            ticks: { maxTicksLimit: 6, callback: (value) => `${value}%` },
          },
        },
      },
    };
    this.charts.push(new Chart(this.accuracy, config));
  }

  private drawLatency(rounds: readonly BenchmarkRound[], ids: string[], colour: (id: string) => string): void {
    if (ids.length === 0) return;
    const datasets = ids.flatMap((id) =>
      (['p50', 'p99'] as const).map((p) => ({
        label: `${id} ${p}`,
        data: rounds.map((r) => r.models[id]?.[`${p}_latency_ms`] ?? null),
        borderColor: colour(id),
        backgroundColor: colour(id),
        borderDash: p === 'p99' ? [6, 4] : [],
        ...lineStyle(rounds.length),
      })),
    );
    const values = datasets.flatMap((d) => d.data).filter((v): v is number => v !== null && v > 0);
    // Remote models can be 100x slower than the on-device one: a log axis keeps both readable.
    const logarithmic = values.length > 0 && Math.max(...values) / Math.min(...values) > 50;
    this.latency.setAttribute('role', 'img');
    this.latency.setAttribute('aria-label', `p50 and p99 latency per model across ${rounds.length} rounds`);
    const config: ChartConfiguration<'line', (number | null)[], string> = {
      type: 'line',
      data: { labels: axisTimes(rounds.map((r) => r.timestamp)), datasets },
      options: {
        plugins: {
          legend: LINE_LEGEND,
          tooltip: {
            callbacks: {
              title: (items) => roundTitle(rounds, items[0]?.dataIndex),
              label: (item) => `${item.dataset.label}: ${ms(item.parsed.y)}`,
            },
          },
        },
        scales: {
          x: { ticks: { maxRotation: 0, autoSkipPadding: 12 } },
          y: logarithmic
            ? { type: 'logarithmic', title: { display: true, text: 'latency (ms, log scale)' } }
            : { beginAtZero: true, title: { display: true, text: 'latency (ms)' } },
        },
      },
    };
    this.charts.push(new Chart(this.latency, config));
  }
}

/** Every model id of the rounds, in order of first appearance. */
function modelIds(rounds: readonly BenchmarkRound[]): string[] {
  const ids = new Set<string>();
  for (const round of rounds) for (const id of Object.keys(round.models)) ids.add(id);
  return [...ids];
}

export interface Bin {
  from: number;
  to: number;
  count: number;
  /** The last bin, holding the slowest values (above the 95th percentile) that the equal bins leave out. */
  overflow?: boolean;
}

/**
 * Equal-width bins from the smallest value to the 95th percentile, about √n of them (5 to 24),
 * with a round width (1, 2 or 5 times a power of ten) so the edges read well. The slowest values
 * go in one last, wider bin: a few 80 ms outliers must not squash 150 answers of 3 to 9 ms into
 * one bar (the table gives p99 and the maximum is in the tooltip).
 */
export function histogram(values: readonly number[]): Bin[] {
  if (values.length === 0) return [];
  const sorted = [...values].sort((a, b) => a - b);
  const min = sorted[0]!;
  const max = sorted.at(-1)!;
  const cap = sorted[Math.max(0, Math.ceil(0.95 * sorted.length) - 1)]!;
  const target = Math.min(24, Math.max(5, Math.ceil(Math.sqrt(sorted.length))));
  const width = niceStep((cap - min) / target || Math.max(Math.abs(min) / 10, 0.001));
  const start = Math.floor(min / width) * width;
  const count = Math.floor((cap - start) / width) + 1;
  const bins: Bin[] = Array.from({ length: count }, (_, i) => ({ from: start + i * width, to: start + (i + 1) * width, count: 0 }));
  const end = start + count * width;
  if (max > cap && max >= end) bins.push({ from: end, to: max, count: 0, overflow: true });
  for (const value of sorted) bins[Math.min(bins.length - 1, Math.floor((value - start) / width))]!.count++;
  return bins;
}

/** `4–5`, and `≥ 16` for the overflow bin. */
function binLabel(bin: Bin): string {
  return bin.overflow ? `≥ ${trim(bin.from)}` : `${trim(bin.from)}–${trim(bin.to)}`;
}

function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
}

function lineStyle(points: number) {
  return { borderWidth: 2, pointRadius: points > 40 ? 0 : 3, pointHoverRadius: 4, spanGaps: false, tension: 0 };
}

function figure(caption: string, content: HTMLElement): HTMLElement {
  const element = document.createElement('figure');
  element.className = 'bench-chart';
  const label = document.createElement('figcaption');
  label.textContent = caption;
  element.append(label, content);
  return element;
}

/** Chart.js sizes a canvas to its parent: a positioned box with a fixed height. */
function frame(canvas: HTMLCanvasElement, size: 'small' | 'large' = 'large'): HTMLElement {
  const box = document.createElement('div');
  box.className = `bench-chart__frame bench-chart__frame--${size}`;
  box.append(canvas);
  return box;
}

function roundTitle(rounds: readonly BenchmarkRound[], index: number | undefined): string {
  const round = index === undefined ? undefined : rounds[index];
  if (!round) return '';
  const trigger = round.trigger === 'auto' ? 'automatic' : round.trigger;
  return `Round ${index! + 1}: ${formatTime(round.timestamp)} (${trigger}, after ${round.request_count} requests)`;
}

function trim(value: number): string {
  return String(Number(value.toPrecision(4)));
}
