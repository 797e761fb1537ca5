/* global document, HTMLElement, CustomEvent */
// The portal's side of the embed: it only listens to the widget's events (they bubble out of the
// shadow root), and builds its own UI with DOM APIs. No inline script: the CSP forbids it.
const status = document.getElementById('portal-status');
const answer = document.getElementById('portal-answer');

document.addEventListener('banking-intent:ready', (event) => {
  if (event.target instanceof HTMLElement && event.target.localName === 'banking-intent-widget') {
    status.textContent = 'The assistant is ready.';
  }
});

document.addEventListener('banking-intent:result', (event) => {
  const { intent, action, outOfScope, handoff } = event.detail;
  answer.dataset.intent = intent;
  if (outOfScope) {
    // Not a banking question: the widget has said so; the portal offers its advisers.
    const link = document.createElement('a');
    link.href = handoff ? handoff.href : '#contact';
    link.textContent = 'contact an adviser';
    answer.replaceChildren("That doesn't look like a banking question. For anything else, ", link, '.');
  } else if (action) {
    const link = document.createElement('a');
    link.href = action.href;
    link.textContent = action.label;
    answer.replaceChildren('We can help: ', link);
  } else {
    answer.replaceChildren(`We can help with "${intent.replace(/_/g, ' ')}": an adviser will call you back.`);
  }
  answer.hidden = false;
});

document.addEventListener('banking-intent:error', (event) => {
  if (event instanceof CustomEvent && event.detail) status.textContent = `The assistant is unavailable: ${event.detail.message}`;
});
