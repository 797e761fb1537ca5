/**
 * The widget's look, in one constructable stylesheet shared by every instance and adopted by each
 * shadow root: no `<style>` element and no style attributes, so a page's CSP needs no
 * 'unsafe-inline' for styles. `:host { all: initial }` keeps the page's inherited styles out;
 * the shadow root keeps ours in. Pages theme it through custom properties (`--bi-*`, which do
 * cross the boundary) and `::part(...)`.
 */
const CSS = `
:host {
  all: initial;
  display: block;
  box-sizing: border-box;
  font-family: var(--bi-font, system-ui, sans-serif);
  font-size: var(--bi-font-size, 1rem);
  color: var(--bi-text, #1c2430);
  background: var(--bi-background, #ffffff);
  border: 1px solid var(--bi-border, #c9d2dc);
  border-radius: var(--bi-radius, 8px);
  padding: var(--bi-padding, 1rem);
}
:host([hidden]) { display: none; }
*, *::before, *::after { box-sizing: inherit; }
form { display: grid; grid-template-columns: 1fr auto; gap: 0.5rem; align-items: end; margin: 0; }
label { grid-column: 1 / -1; font-weight: 600; }
input {
  font: inherit;
  color: inherit;
  background: var(--bi-input-background, #ffffff);
  border: 1px solid var(--bi-border, #c9d2dc);
  border-radius: calc(var(--bi-radius, 8px) / 2);
  padding: 0.5rem 0.6rem;
  min-width: 0;
}
button {
  font: inherit;
  font-weight: 600;
  color: var(--bi-accent-text, #ffffff);
  background: var(--bi-accent, #1f4e79);
  border: 1px solid var(--bi-accent, #1f4e79);
  border-radius: calc(var(--bi-radius, 8px) / 2);
  padding: 0.5rem 1rem;
  cursor: pointer;
}
button:disabled { opacity: 0.6; cursor: progress; }
input:focus-visible, button:focus-visible, a:focus-visible {
  outline: 3px solid var(--bi-focus, #f2a900);
  outline-offset: 2px;
}
.answer { margin-top: 0.75rem; min-height: 1.5em; }
.answer p { margin: 0.25rem 0; }
.answer a { color: var(--bi-accent, #1f4e79); font-weight: 600; }
.answer .error { color: var(--bi-error, #a4262c); }
.confidence { color: var(--bi-muted, #5b6675); }
.closest { color: var(--bi-muted, #5b6675); font-size: 0.85em; }
.diagnostic { color: var(--bi-muted, #5b6675); font-size: 0.8em; font-family: monospace; overflow-wrap: anywhere; }
`;

let sheet: CSSStyleSheet | undefined;

/** The shared sheet, made on first use (so importing this module needs no DOM). */
export function widgetStyleSheet(): CSSStyleSheet {
  if (!sheet) {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
  }
  return sheet;
}
