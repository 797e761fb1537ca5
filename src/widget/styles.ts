/**
 * The widget's look, in one constructable stylesheet shared by every instance and adopted by each
 * shadow root: no `<style>` element and no style attributes, so a page's CSP needs no
 * 'unsafe-inline' for styles. `:host { all: initial }` keeps the page's inherited styles out;
 * the shadow root keeps ours in. Pages theme it through custom properties (`--bi-*`, which do
 * cross the boundary) and `::part(...)`.
 *
 * Dark: the widget takes the page's `color-scheme` (which `all: initial` would otherwise reset),
 * and its default colours come from `light-dark()`. A page that declares `color-scheme: light dark`
 * gets the dark look when the customer's system prefers dark; a page that declares nothing stays
 * light, so a light portal never shows a dark box. `--bi-*` set by the page win in both.
 * Motion: the only transition is on the button, and only without `prefers-reduced-motion: reduce`.
 */
const CSS = `
:host {
  all: initial;
  color-scheme: inherit;
  /* Defaults (light), replaced below by light-dark() pairs where the browser has it. */
  --_text: #1c2430;
  --_background: #ffffff;
  --_border: #8593a1;
  --_input-background: #ffffff;
  --_accent: #1f4e79;
  --_accent-ink: #1f4e79;
  --_muted: #5b6675;
  --_error: #a4262c;
  --_focus: #f2a900;
  display: block;
  box-sizing: border-box;
  font-family: var(--bi-font, system-ui, sans-serif);
  font-size: var(--bi-font-size, 1rem);
  color: var(--bi-text, var(--_text));
  background: var(--bi-background, var(--_background));
  border: 1px solid var(--bi-border, var(--_border));
  border-radius: var(--bi-radius, 8px);
  padding: var(--bi-padding, 1rem);
}
@supports (color: light-dark(#000, #fff)) {
  :host {
    --_text: light-dark(#1c2430, #e3e9ef);
    --_background: light-dark(#ffffff, #18212b);
    --_border: light-dark(#8593a1, #5d6f82);
    --_input-background: light-dark(#ffffff, #101820);
    --_accent: light-dark(#1f4e79, #2c659e);
    --_accent-ink: light-dark(#1f4e79, #8cc4ff);
    --_muted: light-dark(#5b6675, #a5b3c1);
    --_error: light-dark(#a4262c, #ff9ca1);
  }
}
:host([hidden]) { display: none; }
*, *::before, *::after { box-sizing: inherit; }
form { display: grid; grid-template-columns: 1fr auto; gap: 0.5rem; align-items: end; margin: 0; }
label { grid-column: 1 / -1; font-weight: 600; }
input {
  font: inherit;
  color: inherit;
  background: var(--bi-input-background, var(--_input-background));
  border: 1px solid var(--bi-border, var(--_border));
  border-radius: calc(var(--bi-radius, 8px) / 2);
  padding: 0.5rem 0.6rem;
  min-width: 0;
}
button {
  font: inherit;
  font-weight: 600;
  color: var(--bi-accent-text, #ffffff);
  background: var(--bi-accent, var(--_accent));
  border: 1px solid var(--bi-accent, var(--_accent));
  border-radius: calc(var(--bi-radius, 8px) / 2);
  padding: 0.5rem 1rem;
  cursor: pointer;
}
button:disabled { opacity: 0.6; cursor: progress; }
input:focus-visible, button:focus-visible, a:focus-visible {
  outline: 3px solid var(--bi-focus, var(--_focus));
  outline-offset: 2px;
}
.answer { margin-top: 0.75rem; min-height: 1.5em; }
.answer p { margin: 0.25rem 0; }
.answer a { color: var(--bi-link, var(--bi-accent, var(--_accent-ink))); font-weight: 600; }
.answer .error { color: var(--bi-error, var(--_error)); }
.confidence { color: var(--bi-muted, var(--_muted)); }
.closest { color: var(--bi-muted, var(--_muted)); font-size: 0.85em; }
.diagnostic { color: var(--bi-muted, var(--_muted)); font-size: 0.8em; font-family: monospace; overflow-wrap: anywhere; }
@media (prefers-reduced-motion: no-preference) {
  button { transition: background-color 0.15s ease, opacity 0.15s ease; }
}
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
