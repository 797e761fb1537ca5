/** How the Benchmarks section writes numbers and times; shared by the table and the charts. */

/** `12 Jan 2025, 14:03:12` in the reader's locale. */
export function formatTime(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

/**
 * Short labels for a time axis: `14:03:12` when every round is from the same day, else
 * `12 Jan, 14:03`.
 */
export function axisTimes(isos: readonly string[]): string[] {
  const dates = isos.map((iso) => new Date(iso));
  const sameDay = new Set(dates.map((d) => d.toDateString())).size <= 1;
  return dates.map((d) =>
    sameDay
      ? d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })
      : d.toLocaleString(undefined, { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' }),
  );
}

/** `84.4%`; `—` for no value. */
export function percent(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : `${(value * 100).toFixed(1)}%`;
}

/** `81.2%–88.9%`; `—` for no range. */
export function percentRange(range: readonly [number, number] | null | undefined): string {
  return range ? `${percent(range[0])}–${percent(range[1])}` : '—';
}

/** `6.12 ms`, `43.5 ms`, `812 ms`; `—` for no value. */
export function milliseconds(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  return `${value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : value.toFixed(0)} ms`;
}

/** `1 round`, `2 rounds`. */
export function plural(count: number, noun: string): string {
  return `${count} ${count === 1 ? noun : `${noun}s`}`;
}
