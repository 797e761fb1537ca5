/**
 * How many threads the custom model's worker gives onnxruntime-web: several only where the page is
 * cross-origin isolated and the runtime is the worker's own origin's (an embedded widget whose
 * runtime comes from a CDN stays on one thread; test/e2e/widget.test.ts loads it in an isolated
 * portal).
 */
import { describe, expect, test } from 'vitest';
import { wasmThreads, type HostEnvironment } from '../../src/engine/custom-worker-host';

const site = 'https://bank.example';
const env = (overrides: Partial<HostEnvironment>): HostEnvironment => ({
  crossOriginIsolated: true,
  hardwareConcurrency: 8,
  origin: site,
  ...overrides,
});

describe('wasmThreads', () => {
  test('isolated, runtime from the same origin: as many as the cores, up to 4', () => {
    expect(wasmThreads(env({}), `${site}/ort/`)).toBe(4);
    expect(wasmThreads(env({ hardwareConcurrency: 2 }), `${site}/intent/ort/`)).toBe(2);
    expect(wasmThreads(env({ hardwareConcurrency: 0 }), `${site}/ort/`)).toBe(1);
  });

  test('not isolated: one thread (no SharedArrayBuffer)', () => {
    expect(wasmThreads(env({ crossOriginIsolated: false }), `${site}/ort/`)).toBe(1);
  });

  test('isolated, runtime from another origin (a widget on a CDN): one thread', () => {
    expect(wasmThreads(env({}), 'https://cdn.example/widget/ort/')).toBe(1);
    expect(wasmThreads(env({}), 'http://bank.example/ort/')).toBe(1);
  });

  test('origin unknown: one thread', () => {
    expect(wasmThreads(env({ origin: undefined }), `${site}/ort/`)).toBe(1);
  });
});
