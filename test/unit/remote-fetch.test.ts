/**
 * What a remote server (or anything in front of it) can no longer do: redirect the customer's
 * text and the key to another origin, or make us read and parse a huge answer. Both adapters run
 * over real HTTP against the stand-ins, redirected to a second logging stand-in on another
 * 127.0.0.1 port; the wrapper itself (src/adapters/remote-fetch.ts) is tested with an injected fetch.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GeminiAdapter } from '../../src/adapters/gemini';
import { DEFAULT_MAX_RESPONSE_BYTES, remoteFetch } from '../../src/adapters/remote-fetch';
import { VllmAdapter } from '../../src/adapters/vllm';
import { RemoteCallError } from '../../src/core/errors';
import { IntentPipeline } from '../../src/pipeline/pipeline';
import { startGeminiServer, type GeminiStandIn } from '../support/gemini-server';
import { VllmStandIn } from '../support/vllm-server';

const MODEL = 'banking-intent';
const VLLM_KEY = 'vllm-secret-key';
const GEMINI_KEY = 'gemini-secret-key';
const CHAT = '/v1/chat/completions';
const GENERATE = '/v1beta/models/gemini-2.5-flash:generateContent';
const MESSAGE = 'My card has not arrived yet, where is it?';
const MiB = 1024 * 1024;

let vllm: VllmStandIn;
/** Where the redirects point: another origin that logs whatever reaches it. */
let elsewhere: VllmStandIn;
let gemini: GeminiStandIn;
let proxy: GeminiStandIn;
let geminiElsewhere: GeminiStandIn;
const adapters: { dispose(): Promise<void> }[] = [];

beforeAll(async () => {
  [vllm, elsewhere, gemini, proxy, geminiElsewhere] = await Promise.all([
    VllmStandIn.start({ models: [MODEL], apiKey: VLLM_KEY }),
    VllmStandIn.start({ models: [MODEL] }),
    startGeminiServer({ apiKey: GEMINI_KEY }),
    startGeminiServer({ apiKey: null }),
    startGeminiServer({ apiKey: null }),
  ]);
});
afterEach(async () => {
  await Promise.all(adapters.splice(0).map((adapter) => adapter.dispose()));
  for (const server of [vllm, elsewhere]) server.reset();
  for (const server of [gemini, proxy, geminiElsewhere]) server.reset();
});
afterAll(async () => {
  await Promise.all([vllm.close(), elsewhere.close(), gemini.close(), proxy.close(), geminiElsewhere.close()]);
});

function vllmAdapter(options: Partial<ConstructorParameters<typeof VllmAdapter>[0]> = {}): VllmAdapter {
  const adapter = new VllmAdapter({ baseUrl: vllm.url, model: MODEL, apiKey: VLLM_KEY, ...options });
  adapters.push(adapter);
  return adapter;
}

function geminiAdapter(options: ConstructorParameters<typeof GeminiAdapter>[0] = {}): GeminiAdapter {
  const adapter = new GeminiAdapter({ apiKey: GEMINI_KEY, baseUrl: gemini.url, ...options });
  adapters.push(adapter);
  return adapter;
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => expect.unreachable('expected a rejection'),
    (error: unknown) => error as Error,
  );
}

describe('redirects are refused', () => {
  it.each([307, 308] as const)('vLLM: a %i to another origin fails clearly; nothing (no text, no key) reaches it', async (status) => {
    const adapter = vllmAdapter();
    await adapter.load();
    vllm.redirectNext(status, `${elsewhere.url}${CHAT}`, { path: CHAT });
    const error = await rejection(adapter.classify(MESSAGE));
    expect(error).toBeInstanceOf(RemoteCallError);
    expect(error).toMatchObject({ retryable: false });
    expect(error.message).toMatch(new RegExp(`^vLLM at ${vllm.url} answered with a redirect.*Redirects are never followed`));
    expect(vllm.requestsTo(CHAT)).toHaveLength(1);
    expect(elsewhere.requests).toEqual([]);
  });

  it('vLLM: a redirect of the server check makes the adapter unavailable, and reaches nothing either', async () => {
    vllm.redirectNext(302, `${elsewhere.url}/health`, { path: '/health' });
    const error = await rejection(vllmAdapter().load());
    expect(error.message).toMatch(/answered with a redirect/);
    expect(elsewhere.requests).toEqual([]);
  });

  it.each([307, 308] as const)(
    'Gemini: a %i to another origin fails clearly; neither the text nor x-goog-api-key reaches it',
    async (status) => {
      gemini.set({ redirect: { status, location: `${geminiElsewhere.url}${GENERATE}` } });
      const error = await rejection(geminiAdapter().classify(MESSAGE));
      expect(error).toBeInstanceOf(RemoteCallError);
      expect(error).toMatchObject({ retryable: false });
      expect(error.message).toBe(
        `Gemini at ${gemini.url} answered with a redirect. Redirects are never followed, so nothing was sent there: set the server's final URL.`,
      );
      expect(gemini.requests).toHaveLength(1);
      expect(gemini.requests[0]!.headers['x-goog-api-key']).toBe(GEMINI_KEY);
      expect(geminiElsewhere.requests).toEqual([]);
    },
  );

  it('Gemini through a keyless proxy: the redirect is refused the same way', async () => {
    proxy.set({ redirect: { status: 307, location: `${geminiElsewhere.url}${GENERATE}` } });
    const error = await rejection(geminiAdapter({ apiKey: undefined, baseUrl: proxy.url }).classify(MESSAGE));
    expect(error.message).toMatch(/^Gemini at http:\/\/127\.0\.0\.1:\d+ answered with a redirect\./);
    expect(proxy.requests[0]!.headers['x-goog-api-key']).toBeUndefined();
    expect(geminiElsewhere.requests).toEqual([]);
  });

  it('the pipeline does not retry a redirect: it falls back after one request', async () => {
    vllm.redirectNext(307, `${elsewhere.url}${CHAT}`, { path: CHAT, times: 10 });
    const pipeline = new IntentPipeline({
      factories: { vllm: () => vllmAdapter(), gemini: () => geminiAdapter() },
      active: 'vllm',
      fallback: ['gemini'],
      policy: { retries: 3, backoffMs: 1, maxBackoffMs: 2 },
    });
    expect(await pipeline.classify(MESSAGE)).toMatchObject({ model: 'gemini', fallback_from: ['vllm'] });
    expect(vllm.requestsTo(CHAT)).toHaveLength(1);
    expect(elsewhere.requests).toEqual([]);
  });
});

describe('answers over the size cap are refused unread', () => {
  it.each([true, false])(
    'vLLM: 100 MiB (Content-Length announced: %s) is refused at 1 MiB without reading it all',
    async (contentLength) => {
      const adapter = vllmAdapter();
      await adapter.load();
      vllm.sendHugeNext(100 * MiB, { contentLength, path: CHAT });
      const error = await rejection(adapter.classify(MESSAGE));
      expect(error).toBeInstanceOf(RemoteCallError);
      expect(error).toMatchObject({ status: 200, retryable: false });
      expect(error.message).toMatch(/^vLLM sent an answer larger than the 1 MiB allowed/);
      expect(error.message).toMatch(contentLength ? /104857600 bytes announced/ : /more than 1048576 bytes sent/);
      const [stream] = vllm.streams;
      expect(stream?.completed).toBe(false);
      expect(stream!.written).toBeLessThan(32 * MiB);
    },
  );

  it('Gemini: a chunked 100 MiB answer is refused at the cap, not parsed', async () => {
    gemini.set({ huge: { bytes: 100 * MiB, contentLength: false } });
    const error = await rejection(geminiAdapter().classify(MESSAGE));
    expect(error).toBeInstanceOf(RemoteCallError);
    expect(error.message).toMatch(/^Gemini sent an answer larger than the 1 MiB allowed \(more than 1048576 bytes sent\)/);
    expect(gemini.streams[0]?.completed).toBe(false);
    expect(gemini.streams[0]!.written).toBeLessThan(32 * MiB);
  });

  it('the cap is configurable per adapter; ordinary answers fit the default easily', async () => {
    await expect(vllmAdapter().classify(MESSAGE)).resolves.toMatchObject({ intent: 'card_arrival' });
    const small = await rejection(vllmAdapter({ maxResponseBytes: 512 }).classify(MESSAGE));
    expect(small.message).toMatch(/larger than the 512 bytes allowed/);
    await expect(geminiAdapter().classify(MESSAGE)).resolves.toMatchObject({ intent: 'card_arrival' });
    const tiny = await rejection(geminiAdapter({ maxResponseBytes: 64 }).classify(MESSAGE));
    expect(tiny.message).toMatch(/^Gemini sent an answer larger than the 64 bytes allowed/);
    expect(() => vllmAdapter({ maxResponseBytes: 0 })).toThrow(/maxResponseBytes must be a positive number/);
  });
});

describe('remoteFetch', () => {
  it('always asks for redirect: error, whatever the caller passed', async () => {
    const seen: RequestInit[] = [];
    const wrapped = remoteFetch({
      service: 'Test',
      fetch: (_input, init) => {
        seen.push(init ?? {});
        return Promise.resolve(new Response('{}'));
      },
    });
    await wrapped('https://llm.bank.example/x', { method: 'POST', redirect: 'follow', body: 'text' });
    expect(seen[0]).toMatchObject({ method: 'POST', redirect: 'error', body: 'text' });
  });

  it('refuses a 3xx that an injected fetch returned anyway, naming only origins', async () => {
    const wrapped = remoteFetch({
      service: 'Test',
      fetch: () => Promise.resolve(Response.redirect('https://evil.example/steal?key=abc', 307)),
    });
    const error = await rejection(wrapped('https://llm.bank.example/v1/chat/completions?token=t'));
    expect(error).toBeInstanceOf(RemoteCallError);
    expect(error.message).toBe(
      "Test at https://llm.bank.example answered with a redirect (307) to https://evil.example. Redirects are never followed, so nothing was sent there: set the server's final URL.",
    );
  });

  it('passes other errors (network, abort) through unchanged, and small bodies as they are', async () => {
    const network = new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    const failing = remoteFetch({ service: 'Test', fetch: () => Promise.reject(network) });
    expect(await rejection(failing('https://llm.bank.example/'))).toBe(network);

    const ok = remoteFetch({ service: 'Test', fetch: () => Promise.resolve(new Response('{"a":1}', { status: 503, statusText: 'Busy' })) });
    const response = await ok('https://llm.bank.example/');
    expect([response.status, response.statusText, await response.text()]).toEqual([503, 'Busy', '{"a":1}']);
    expect(DEFAULT_MAX_RESPONSE_BYTES).toBe(MiB);
  });
});
