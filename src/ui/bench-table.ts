/**
 * The benchmark tables' shared frame (the latest round in dashboard.ts, the summary across rounds
 * in dashboard-across.ts): caption, a header row, a row per model headed by its id, and the box
 * the table scrolls in on a narrow screen.
 */

/** A column: its name and, where the name needs it, a tooltip. */
export type BenchColumn = [name: string, title?: string];

/** A table with `caption` and a header row of `columns`; those from `firstNumeric` on are right-aligned numbers. */
export function benchTable(caption: string, columns: readonly BenchColumn[], firstNumeric: number): HTMLTableElement {
  const table = document.createElement('table');
  table.className = 'bench-table';
  table.createCaption().textContent = caption;
  const head = table.createTHead().insertRow();
  for (const [index, [name, title]] of columns.entries()) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = name;
    if (title) th.title = title;
    if (index >= firstNumeric) th.className = 'num';
    head.append(th);
  }
  table.createTBody();
  return table;
}

/** A new body row for `model`, headed by its id. */
export function modelRow(table: HTMLTableElement, model: string): HTMLTableRowElement {
  const row = table.tBodies[0]!.insertRow();
  row.dataset.model = model;
  const th = document.createElement('th');
  th.scope = 'row';
  th.textContent = model;
  row.append(th);
  return row;
}

/**
 * The box the table scrolls sideways in on a narrow screen, not the page: a focusable, named
 * region, so that a keyboard can scroll it too.
 */
export function scrollBox(table: HTMLTableElement, label: string): HTMLDivElement {
  const scroller = document.createElement('div');
  scroller.className = 'bench-table__scroll';
  scroller.tabIndex = 0;
  scroller.setAttribute('role', 'region');
  scroller.setAttribute('aria-label', label);
  scroller.append(table);
  return scroller;
}
