/**
 * The custom model computes the same function on WebGPU as on WASM in the browser: the graph's
 * contrib operators (SkipSimplifiedLayerNormalization, SimplifiedLayerNormalization, FastGelu)
 * have kernels on both, and give the same probabilities to the parity tests' bound (1e-3; on
 * SwiftShader they agree to ~1e-6). WebGPU here is SwiftShader: correct, never timed.
 */
import type { Page } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import { PROBE_SET } from '../../src/bench/probe-set';
import type { Prediction } from '../../src/core/prediction';
import { collectConsole, newContext, sharedSite } from './harness';

/** The bound the parity tests hold the graph to. */
const TOLERANCE = 1e-3;
/** A spread of the probe set: in-scope intents and out-of-scope messages, short and long. */
const TEXTS = PROBE_SET.items.filter((_, i) => i % 6 === 0).map((item) => item.text);

const shared = sharedSite({ webgpu: true });

async function predictions(device: 'auto' | 'wasm'): Promise<{ answers: Prediction[]; logs: string[] }> {
  const context = await newContext(shared.browser, { serviceWorkers: 'block' });
  const page: Page = await context.newPage();
  const logs = collectConsole(page);
  await page.goto(`${shared.site.origin}/?device=${device}&model=custom&bench=0`);
  await page.waitForFunction(() => window.bankingIntent !== undefined);
  await page.evaluate(() => window.bankingIntent!.ready);
  const answers = await page.evaluate(async (texts) => {
    const out: Prediction[] = [];
    for (const text of texts) out.push(await window.bankingIntent!.classify(text, { topK: 5 }));
    return out;
  }, TEXTS);
  await context.close();
  return { answers, logs };
}

describe('WebGPU and WASM give the same answers', () => {
  test(`${TEXTS.length} probe messages: same intent, top-5 probabilities within ${TOLERANCE}`, async () => {
    const gpu = await predictions('auto');
    const wasm = await predictions('wasm');
    expect(new Set(gpu.answers.map((a) => a.device)), gpu.logs.join('\n')).toEqual(new Set(['webgpu']));
    expect(new Set(wasm.answers.map((a) => a.device))).toEqual(new Set(['wasm']));

    let maxDiff = 0;
    gpu.answers.forEach((a, i) => {
      const b = wasm.answers[i]!;
      expect(a.intent, TEXTS[i]).toBe(b.intent);
      expect(a.top.map((t) => t.intent)).toEqual(b.top.map((t) => t.intent));
      a.top.forEach((t, k) => (maxDiff = Math.max(maxDiff, Math.abs(t.score - b.top[k]!.score))));
    });
    console.log(`WebGPU vs WASM on ${TEXTS.length} messages: max |top-5 probability difference| ${maxDiff.toExponential(2)}`);
    expect(maxDiff).toBeLessThanOrEqual(TOLERANCE);
    // Not a model that answers the same thing to everything.
    expect(new Set(wasm.answers.map((a) => a.intent)).size).toBeGreaterThan(TEXTS.length / 2);
  });
});
