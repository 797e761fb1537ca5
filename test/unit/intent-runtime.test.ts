/**
 * The runtime (src/runtime/intent-runtime.ts) as a bank's Node code uses it: the package's Node
 * entry with the real custom model on onnxruntime-node, and two vLLM stand-ins on 127.0.0.1 to
 * show that `configure` replaces only the adapters whose settings changed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError, ModelUnavailableError } from '../../src/core/errors';
import type { RuntimeProgress } from '../../src/runtime/intent-runtime';
import { createIntentRuntime } from '../../src/runtime/node';
import { VllmStandIn } from '../support/vllm-server';

const MODEL = 'banking-intent';
let first: VllmStandIn;
let second: VllmStandIn;

beforeAll(async () => {
  first = await VllmStandIn.start({ models: [MODEL] });
  second = await VllmStandIn.start({ models: [MODEL] });
});
afterAll(async () => {
  await first.close();
  await second.close();
});

describe('createIntentRuntime (Node entry)', () => {
  it('loads the bundled model with progress in the transformers.js shape, and classifies', async () => {
    const runtime = createIntentRuntime();
    const events: RuntimeProgress[] = [];
    await runtime.load(undefined, { onProgress: (p) => events.push(p) });
    expect(events.at(-1)).toEqual({ status: 'ready', name: 'custom', file: '', loaded: 0, total: 0, progress: 100 });
    for (const event of events) {
      expect(Object.keys(event).sort()).toEqual(['file', 'loaded', 'name', 'progress', 'status', 'total']);
      expect(event.progress).toBeGreaterThanOrEqual(0);
      expect(event.progress).toBeLessThanOrEqual(100);
    }
    const prediction = await runtime.classify('I still have not received my new card');
    expect(prediction).toMatchObject({ intent: 'card_arrival', model: 'custom', device: 'cpu', fallback_from: [] });
    expect((await runtime.status()).find((s) => s.id === 'custom')).toMatchObject({ state: 'ready', device: 'cpu' });
    await runtime.dispose();
    expect(() => runtime.classify('hello')).toThrow(ModelUnavailableError);
  });

  it('configure swaps the vLLM adapter for a new server, disposes the old one, and keeps the loaded on-device model', async () => {
    const runtime = createIntentRuntime({ model: 'vllm', fallback: 'custom', vllm: { url: first.url, model: MODEL } });
    try {
      await runtime.load('custom');
      const custom = runtime.pipeline.adapter('custom');
      const oldVllm = runtime.pipeline.adapter('vllm');
      expect((await runtime.classify('I still have not received my new card')).model).toBe('vllm');
      expect(first.requests.length).toBeGreaterThan(0);
      const firstCount = first.requests.length;

      runtime.configure({ vllm: { url: second.url } });
      expect(runtime.config.vllm).toMatchObject({ url: second.url, model: MODEL });
      const answer = await runtime.classify('how do I top up by bank transfer?');
      expect(answer.model).toBe('vllm');
      expect(second.requests.length).toBeGreaterThan(0);
      expect(first.requests.length).toBe(firstCount);
      // The on-device model is the same, still loaded; the old vLLM adapter is disposed once idle.
      expect(runtime.pipeline.adapter('custom')).toBe(custom);
      expect((await custom.health()).state).toBe('ready');
      expect(runtime.pipeline.adapter('vllm')).not.toBe(oldVllm);
      await runtime.pipeline.settled();
      await new Promise((resolve) => setTimeout(resolve, 0));
      expect((await oldVllm.health()).state).toBe('disposed');

      // Routing changes replace nothing: the fallback list as text, then the model itself.
      runtime.configure({ fallback: ' custom , gemini ', model: 'custom' });
      expect(runtime.config.fallback).toEqual(['custom', 'gemini']);
      expect(runtime.active).toBe('custom');
      expect(runtime.pipeline.adapter('custom')).toBe(custom);
      expect((await runtime.classify('I still have not received my new card')).model).toBe('custom');
    } finally {
      await runtime.dispose();
    }
  });

  it('a bad setting throws InvalidInputError naming it and changes nothing', () => {
    const runtime = createIntentRuntime({ fallback: ['custom'] });
    expect(() => runtime.configure({ model: 'gpt-9' })).toThrow(/Unknown model "gpt-9"/);
    expect(() => runtime.configure({ escalateBelow: 2, fallback: 'vllm' })).toThrow(InvalidInputError);
    expect(runtime.active).toBe('custom');
    expect(runtime.config.fallback).toEqual(['custom']);
    expect(runtime.config.escalateBelow).toBeUndefined();
    expect(() => createIntentRuntime({ vllm: { url: 'https://user:secret@vllm.bank.test' } })).toThrow(/carries credentials/);
  });

  it('a remote model with a server that was never allowed answers nothing until allowed', async () => {
    // As from a page whose address named the server: configured, but nobody allowed it.
    const base = createIntentRuntime({}).config;
    base.vllm = { ...base.vllm, url: first.url, model: MODEL };
    const runtime = createIntentRuntime({ base });
    try {
      const before = first.requests.length;
      expect(await runtime.health('vllm')).toMatchObject({ state: 'unavailable' });
      await expect(runtime.load('vllm')).rejects.toThrow(/may not receive messages/);
      expect(first.requests.length).toBe(before);
      runtime.configure({ allowRemote: ['vllm'] });
      await runtime.load('vllm');
      expect(first.requests.length).toBeGreaterThan(before);
    } finally {
      await runtime.dispose();
    }
  });
});
