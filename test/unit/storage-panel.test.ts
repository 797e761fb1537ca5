/**
 * The Storage panel's sums and sentences (src/ui/storage-panel.ts), and the live region's one
 * sentence per answer (src/ui/render.ts), without a browser. test/e2e/accessibility.test.ts checks
 * them in Chromium, against real caches.
 */
import { describe, expect, it } from 'vitest';
import { announcement } from '../../src/ui/render';
import { describeRemoved, formatBytes, isSiteCache, kindOf, summarise, type CachedFile } from '../../src/ui/storage-panel';

const SCOPE = 'https://bank.example/intent/';
const PRECACHE = `workbox-precache-v2-${SCOPE}`;

describe('the Storage panel', () => {
  it("counts only this site's caches: model files, the Llama's runtime, and Workbox's for its own scope", () => {
    expect(isSiteCache('model-files', SCOPE)).toBe(true);
    expect(isSiteCache('ort-runtime', SCOPE)).toBe(true);
    expect(isSiteCache('ort-runtime-0a1b2c3d', SCOPE)).toBe(true);
    expect(isSiteCache(PRECACHE, SCOPE)).toBe(true);
    expect(isSiteCache('workbox-precache-v2-https://bank.example/other-app/', SCOPE)).toBe(false);
    expect(isSiteCache('some-other-cache', SCOPE)).toBe(false);
  });

  it('sorts cached files into model files, runtime and app files, and sums them', () => {
    const files: CachedFile[] = [
      { cache: 'model-files', url: `${SCOPE}models/custom/model.onnx`, bytes: 3_400_000 },
      { cache: 'model-files', url: `${SCOPE}models/custom/tokenizer.json`, bytes: 55_000 },
      { cache: PRECACHE, url: `${SCOPE}ort/ort-wasm-simd-threaded.asyncify.wasm?__WB_REVISION__=1`, bytes: 26_000_000 },
      { cache: PRECACHE, url: `${SCOPE}ort/ort-wasm-simd-threaded.asyncify.mjs?__WB_REVISION__=1`, bytes: 40_000 },
      { cache: 'ort-runtime-0a1b2c3d', url: `${SCOPE}ort/ort-wasm-simd-threaded.asyncify.wasm`, bytes: 27_000_000 },
      { cache: PRECACHE, url: `${SCOPE}index.html?__WB_REVISION__=2`, bytes: 9_000 },
      { cache: PRECACHE, url: `${SCOPE}assets/main-abc.js`, bytes: 200_000 },
    ];
    expect(files.map(kindOf)).toEqual(['models', 'models', 'runtime', 'runtime', 'runtime', 'app', 'app']);
    expect(summarise(files, { count: 2, bytes: 41_000 })).toEqual([
      { kind: 'models', count: 2, bytes: 3_455_000 },
      { kind: 'runtime', count: 3, bytes: 53_040_000 },
      { kind: 'app', count: 2, bytes: 209_000 },
      { kind: 'rounds', count: 2, bytes: 41_000 },
    ]);
    expect(summarise([], { count: 0, bytes: 0 }).every((item) => item.count === 0 && item.bytes === 0)).toBe(true);
  });

  it('writes sizes in powers of 1000, like the README', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(812)).toBe('812 B');
    expect(formatBytes(41_000)).toBe('41.0 kB');
    expect(formatBytes(3_455_000)).toBe('3.5 MB');
    expect(formatBytes(1_200_000_000)).toBe('1.20 GB');
  });

  it('says what a clear removed, leaving out what was not there', () => {
    expect(
      describeRemoved([
        { kind: 'models', count: 2, bytes: 3_455_000 },
        { kind: 'runtime', count: 2, bytes: 26_040_000 },
        { kind: 'app', count: 0, bytes: 0 },
        { kind: 'rounds', count: 1, bytes: 20_500 },
      ]),
    ).toBe('model files (2 files, 3.5 MB), runtime files (2 files, 26.0 MB) and 1 benchmark round (about 20.5 kB)');
    expect(describeRemoved([{ kind: 'rounds', count: 0, bytes: 0 }])).toBe('');
  });
});

describe('the live region', () => {
  it('says one short sentence: the intent and its confidence', () => {
    expect(announcement({ intent: 'card_arrival', confidence: 0.9734 })).toBe('Card arrival, 97.3% confidence.');
    expect(announcement({ intent: 'out_of_scope', confidence: 0.95 })).toBe('Not a banking question, 95.0% sure.');
  });
});
