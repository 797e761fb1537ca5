/**
 * docs/widget-portal.png: the widget inside the example portal (cross-origin, strict CSP), after
 * classifying a message. `npm run build && npm run docs:widget-screenshot`.
 */
import { fileURLToPath } from 'node:url';
import { launchChromium } from './lib/browser';
import { defineCommand, runCli } from './lib/cli';
import { serveEmbedExample } from './lib/embed-servers';

const OUTPUT = fileURLToPath(new URL('../docs/widget-portal.png', import.meta.url));

const command = defineCommand({
  command: 'npm run docs:widget-screenshot --',
  summary: `Takes docs/widget-portal.png: the widget inside the example portal (cross-origin, strict CSP) after
    classifying a message, in headless Chromium. Needs \`npm run build\` first.`,
  options: {
    out: { type: 'string', value: 'FILE.png', default: 'docs/widget-portal.png', description: 'the picture written' },
  },
  examples: ['npm run build && npm run docs:widget-screenshot'],
});

runCli(async () => {
  const { values } = command.parse();
  const output = values.out === 'docs/widget-portal.png' ? OUTPUT : values.out;
  const servers = await serveEmbedExample();
  const browser = await launchChromium({ webgpu: false });
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 520 } });
    await page.goto(`${servers.portalOrigin}/portal.html`);
    await page.locator('#portal-status', { hasText: 'ready' }).waitFor();
    await page.getByRole('textbox', { name: 'Message' }).fill('my card got stolen');
    await page.keyboard.press('Enter');
    await page.locator('#portal-answer[data-intent]').waitFor();
    await page.screenshot({ path: output });
    console.log(`Wrote ${output}`);
  } finally {
    await browser.close();
    await servers.close();
  }
});
