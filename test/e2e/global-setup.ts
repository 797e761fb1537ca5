/**
 * Before any browser test: is there a Chromium (scripts/lib/browser.ts `findChromium`)? Without
 * one, `npm test` stops here with one line saying how to get one, instead of every browser test
 * failing on its own. `npm run test:unit` does not run this.
 */
import { findChromium, NO_CHROMIUM } from '../../scripts/lib/browser';

export default function setup(): void {
  let problem: string | undefined;
  try {
    if (!findChromium()) problem = NO_CHROMIUM;
  } catch (error) {
    problem = (error as Error).message;
  }
  if (problem === undefined) return;
  process.stderr.write(`\n${problem}\n`);
  process.exit(1);
}
