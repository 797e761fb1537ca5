/**
 * The Gemini adapter with the real `@google/genai` SDK over real HTTP, against a stand-in Gemini
 * API on 127.0.0.1 (test/support/gemini-server.ts): what is sent, what comes back, and how every
 * failure becomes a typed error.
 */
import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { GEMINI_UNSCORED_CONFIDENCE, GeminiAdapter, type GeminiAdapterOptions } from '../../src/adapters/gemini';
import { AbortedError, InvalidInputError, ModelUnavailableError, RemoteCallError, TimeoutError } from '../../src/core/errors';
import { BANKING77_LABELS, OUT_OF_SCOPE } from '../../src/core/labels';
import { IntentPipeline } from '../../src/pipeline/pipeline';
import { startGeminiServer, type GeminiFailure, type GeminiStandIn } from '../support/gemini-server';

const KEY = 'test-key-123';
/** Not banking: the stand-in answers it `out_of_scope` whenever it is offered that label. */
const WEATHER = 'what is the weather tomorrow';
let server: GeminiStandIn;
let proxy: GeminiStandIn;
const adapters: GeminiAdapter[] = [];

function adapter(options: GeminiAdapterOptions = {}): GeminiAdapter {
  const made = new GeminiAdapter({ apiKey: KEY, baseUrl: server.url, ...options });
  adapters.push(made);
  return made;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

beforeAll(async () => {
  server = await startGeminiServer({ apiKey: KEY });
  proxy = await startGeminiServer({ apiKey: null });
});

afterEach(async () => {
  server.reset();
  proxy.reset();
  vi.unstubAllEnvs();
  await Promise.all(adapters.splice(0).map((made) => made.dispose()));
});

afterAll(async () => {
  await Promise.all([server.close(), proxy.close()]);
});

describe('GeminiAdapter requests', () => {
  it('posts to /v1beta/models/{model}:generateContent with the key header and an enum of the labels and out_of_scope', async () => {
    const prediction = await adapter().classify('My new card has still not arrived');

    expect(server.requests).toHaveLength(1);
    const request = server.requests[0]!;
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    expect(request.headers['x-goog-api-key']).toBe(KEY);
    expect(request.query).toEqual({});
    const config = request.body?.generationConfig;
    expect(config?.responseMimeType).toBe('text/x.enum');
    expect(config?.responseSchema).toEqual({ type: 'STRING', enum: [...BANKING77_LABELS, OUT_OF_SCOPE] });
    expect(server.receivedEnums()).toEqual([[...BANKING77_LABELS, OUT_OF_SCOPE]]);
    expect(config?.temperature).toBe(0);
    expect(config?.thinkingConfig).toEqual({ thinkingBudget: 0 });
    const parts = request.body?.contents?.[0]?.parts?.map((part) => part.text);
    expect(parts).toHaveLength(2);
    expect(parts?.[0]).toMatch(/answer "out_of_scope": greetings and small talk, other subjects .*gibberish.*language other than English/);
    expect(parts?.[1]).toBe('My new card has still not arrived');

    expect(prediction).toMatchObject({
      intent: 'card_arrival',
      top: [{ intent: 'card_arrival' }],
      model: 'gemini',
      device: 'remote',
      truncated: false,
      masked: false,
      masked_categories: [],
    });
    // What routing adds is the pipeline's: the adapter answers the model's part only.
    expect(prediction).not.toHaveProperty('fallback_from');
    expect(prediction.latency_ms).toBeGreaterThan(0);
  });

  it('uses the configured model and labels', async () => {
    const labels = ['card_arrival', 'change_pin', 'other'];
    const prediction = await adapter({ model: 'gemini-2.5-flash-lite', labels }).classify('How do I change my PIN?');

    const request = server.requests[0]!;
    expect(request.path).toBe('/v1beta/models/gemini-2.5-flash-lite:generateContent');
    expect(request.body?.generationConfig?.responseSchema?.enum).toEqual([...labels, OUT_OF_SCOPE]);
    expect(prediction.intent).toBe('change_pin');
  });

  it('offers out_of_scope once, last, when the configured labels already hold it', async () => {
    await adapter({ labels: [OUT_OF_SCOPE, 'change_pin'] }).classify('How do I change my PIN?');
    expect(server.receivedEnums()).toEqual([['change_pin', OUT_OF_SCOPE]]);
  });

  it('accepts a label with spaces around it and reads the trimmed label', async () => {
    server.set({ label: '  lost_or_stolen_card\n' });
    await expect(adapter().classify('hello')).resolves.toMatchObject({ intent: 'lost_or_stolen_card' });
  });

  it('masks card numbers and emails before the text leaves the device', async () => {
    const prediction = await adapter().classify('I lost my card 4111 1111 1111 1111, write to jane.doe@example.com');

    const sent = server.requests[0]!.rawBody;
    expect(sent).not.toContain('4111');
    expect(sent).not.toMatch(/4111\D?1111\D?1111\D?1111/);
    expect(sent).not.toContain('jane.doe@example.com');
    expect(sent).not.toContain('jane.doe');
    expect(sent).toContain('I lost my card');
    expect(prediction.masked).toBe(true);
    expect(prediction.masked_categories.length).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(prediction)).not.toContain('jane.doe');
    expect(prediction.intent).toBe('lost_or_stolen_card');
  });

  it('has no switch that sends the text unmasked: the former mask: false is ignored', async () => {
    const prediction = await adapter({ mask: false } as GeminiAdapterOptions).classify('card 4111 1111 1111 1111');
    expect(server.requests[0]!.rawBody).not.toContain('4111 1111 1111 1111');
    expect(prediction.masked).toBe(true);
  });

  it('cuts very long messages and says so', async () => {
    const prediction = await adapter({ maxChars: 100 }).classify('a'.repeat(150));
    expect(server.requests[0]!.body?.contents?.[0]?.parts?.[1]?.text).toHaveLength(100);
    expect(prediction.truncated).toBe(true);
  });

  it('empty input never reaches the server: the pipeline checks it before the adapter', async () => {
    const pipeline = new IntentPipeline({ factories: { gemini: () => adapter() }, active: 'gemini' });
    await expect(pipeline.classify('  \u200b ')).rejects.toBeInstanceOf(InvalidInputError);
    expect(server.requests).toHaveLength(0);
  });
});

describe('GeminiAdapter confidence', () => {
  it('is exp(avgLogprobs) when Gemini sends it, with the one label in top', async () => {
    server.set({ avgLogprobs: -0.1 });
    const prediction = await adapter().classify('I want a refund');
    expect(prediction.confidence).toBeCloseTo(Math.exp(-0.1), 10);
    expect(prediction.top).toEqual([{ intent: 'request_refund', score: prediction.confidence }]);
  });

  it('is the documented neutral value, or the configured one, when Gemini sends no score', async () => {
    await expect(adapter().classify('I want a refund')).resolves.toMatchObject({ confidence: GEMINI_UNSCORED_CONFIDENCE });
    await expect(adapter({ unscoredConfidence: 0.82 }).classify('I want a refund')).resolves.toMatchObject({ confidence: 0.82 });
  });
});

describe('GeminiAdapter out of scope', () => {
  it('answers out_of_scope for a message that is not banking: confidence 1 without a score, no in-scope label in top', async () => {
    const prediction = await adapter().classify(WEATHER);
    expect(server.receivedEnums()[0]).toContain(OUT_OF_SCOPE);
    expect(prediction).toMatchObject({
      intent: OUT_OF_SCOPE,
      confidence: 1,
      top: [],
      model: 'gemini',
      device: 'remote',
    });
  });

  it('takes the confidence from avgLogprobs when Gemini sends it, and ignores the unscored setting', async () => {
    server.set({ avgLogprobs: -0.2 });
    const prediction = await adapter({ unscoredConfidence: 0.3 }).classify(WEATHER);
    expect(prediction.intent).toBe(OUT_OF_SCOPE);
    expect(prediction.confidence).toBeCloseTo(Math.exp(-0.2), 10);
    expect(prediction.top).toEqual([]);
    server.set({});
    await expect(adapter({ unscoredConfidence: 0.3 }).classify(WEATHER)).resolves.toMatchObject({ intent: OUT_OF_SCOPE, confidence: 1 });
  });
});

describe('GeminiAdapter errors', () => {
  const cases: [GeminiFailure, number, boolean, number | undefined][] = [
    ['invalid-argument', 400, false, undefined],
    ['permission-denied', 403, false, undefined],
    ['resource-exhausted', 429, true, 58_000],
    ['internal', 500, true, undefined],
    ['unavailable', 503, true, undefined],
  ];

  it.each(cases)(
    '%s → RemoteCallError status %i, retryable %s, retryAfterMs %s, after one request',
    async (failure, status, retryable, retryAfterMs) => {
      server.set({ failure });
      const error = await rejection(adapter().classify('Where is my card?'));

      expect(error).toBeInstanceOf(RemoteCallError);
      expect(error).toMatchObject({ status, retryable, retryAfterMs, model: 'gemini' });
      expect((error as RemoteCallError).message).toContain(`HTTP ${status}`);
      // The pipeline owns retries: the SDK must not have tried again on its own.
      expect(server.requests).toHaveLength(1);
    },
  );

  it('names the Google status and message', async () => {
    server.set({ failure: 'permission-denied' });
    const error = await rejection(adapter().classify('Where is my card?'));
    expect((error as Error).message).toContain('PERMISSION_DENIED');
    expect((error as Error).message).toContain('leaked');
  });

  it('keeps the SDK error as cause, with the URL and the error body', async () => {
    server.set({ failure: 'unavailable' });
    const gemini = adapter();
    const error = (await rejection(gemini.classify('Where is my card?'))) as RemoteCallError;
    expect(error.url).toBe(gemini.endpoint);
    expect(error.cause).toMatchObject({ name: 'ApiError', status: 503 });
    expect(JSON.parse(error.responseBody!)).toMatchObject({ error: { code: 503 } });
  });

  it('maps a wrong key to a non-retryable 400', async () => {
    const error = await rejection(adapter({ apiKey: 'wrong' }).classify('Where is my card?'));
    expect(error).toMatchObject({ status: 400, retryable: false });
    expect((error as Error).message).toContain('API key not valid');
  });

  it.each([
    ['not-a-label', /not a label: "I think this is about a card\."/],
    ['no-candidates', /no candidate/],
    ['prompt-blocked', /blockReason SAFETY/],
    ['safety', /finishReason SAFETY/],
  ] as const)('a 200 with %s → non-retryable RemoteCallError', async (nonsense, message) => {
    server.set({ nonsense });
    const error = await rejection(adapter().classify('Where is my card?'));
    expect(error).toBeInstanceOf(RemoteCallError);
    expect(error).toMatchObject({ retryable: false });
    expect((error as Error).message).toMatch(message);
  });

  it('maps a closed port to a retryable RemoteCallError that names the URL', async () => {
    const closed = await closedPortUrl();
    const error = await rejection(adapter({ baseUrl: closed }).classify('Where is my card?'));
    expect(error).toBeInstanceOf(RemoteCallError);
    expect(error).toMatchObject({ status: undefined, retryable: true });
    expect((error as Error).message).toContain(`${closed}/v1beta/models/gemini-2.5-flash:generateContent`);
    expect((error as Error).cause).toBeInstanceOf(TypeError);
  });

  it('rejects with AbortedError promptly when the caller aborts a slow call', async () => {
    server.set({ delayMs: 10_000 });
    const controller = new AbortController();
    const started = performance.now();
    setTimeout(() => controller.abort(), 100);
    const error = await rejection(adapter().classify('Where is my card?', { signal: controller.signal }));
    expect(error).toBeInstanceOf(AbortedError);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(server.requests).toHaveLength(1);
  });

  it('sends nothing when the signal is already aborted', async () => {
    await expect(adapter().classify('Where is my card?', { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortedError);
    expect(server.requests).toHaveLength(0);
  });

  it('turns an AbortSignal.timeout into a retryable TimeoutError, as the vLLM adapter does', async () => {
    server.set({ delayMs: 10_000 });
    const started = performance.now();
    const error = await rejection(adapter().classify('Where is my card?', { signal: AbortSignal.timeout(100) }));
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ retryable: true });
    expect((error as Error).cause).toMatchObject({ name: 'TimeoutError' });
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(server.requests).toHaveLength(1);
  });

  it('maps an already timed-out signal to TimeoutError, sending nothing', async () => {
    const timedOut = AbortSignal.timeout(1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await expect(adapter().classify('Where is my card?', { signal: timedOut })).rejects.toBeInstanceOf(TimeoutError);
    expect(server.requests).toHaveLength(0);
  });

  it('stops a call in flight when disposed', async () => {
    server.set({ delayMs: 10_000 });
    const gemini = adapter();
    const pending = rejection(gemini.classify('Where is my card?'));
    await vi.waitFor(() => expect(server.requests).toHaveLength(1));
    await gemini.dispose();
    expect(await pending).toBeInstanceOf(ModelUnavailableError);
    await expect(gemini.classify('Where is my card?')).rejects.toBeInstanceOf(ModelUnavailableError);
  });
});

describe('GeminiAdapter configuration', () => {
  it('is unavailable without a key and without a proxy URL, and says why', async () => {
    const gemini = new GeminiAdapter({});
    adapters.push(gemini);
    const error = await rejection(gemini.load());
    expect(error).toBeInstanceOf(ModelUnavailableError);
    expect((error as Error).message).toBe('Gemini needs an API key or the URL of your proxy');
    await expect(gemini.health()).resolves.toEqual({ state: 'unavailable', reason: 'Gemini needs an API key or the URL of your proxy' });
    await expect(gemini.classify('Where is my card?')).rejects.toBeInstanceOf(ModelUnavailableError);
  });

  it('never takes the key from the environment', async () => {
    vi.stubEnv('GEMINI_API_KEY', 'key-from-env');
    vi.stubEnv('GOOGLE_API_KEY', 'key-from-env');
    vi.stubEnv('GOOGLE_GEMINI_BASE_URL', proxy.url);
    const gemini = new GeminiAdapter({});
    adapters.push(gemini);
    await expect(gemini.load()).rejects.toBeInstanceOf(ModelUnavailableError);

    const keyless = new GeminiAdapter({ baseUrl: server.url });
    adapters.push(keyless);
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    await expect(keyless.classify('Where is my card?')).rejects.toMatchObject({ status: 403 });
    expect(server.requests[0]!.headers['x-goog-api-key']).toBeUndefined();
    expect(proxy.requests).toHaveLength(0);
  });

  it('talks to a keyless proxy without sending any key header', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const gemini = new GeminiAdapter({ baseUrl: `${proxy.url}/` });
    adapters.push(gemini);
    await gemini.load();
    await expect(gemini.health()).resolves.toEqual({ state: 'ready', device: 'remote' });

    const prediction = await gemini.classify('What is the exchange rate today?');
    expect(prediction.intent).toBe('exchange_rate');
    const request = proxy.requests[0]!;
    expect(request.path).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    expect(request.headers).not.toHaveProperty('x-goog-api-key');
    expect(request.query).not.toHaveProperty('key');
  });

  it('loads with a key alone, sending nothing until the first message', async () => {
    const gemini = adapter({ baseUrl: undefined });
    await gemini.load();
    await expect(gemini.health()).resolves.toEqual({ state: 'ready', device: 'remote' });
    expect(gemini.endpoint).toBe('https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent');
  });

  it('is unavailable once disposed', async () => {
    const gemini = adapter();
    await gemini.dispose();
    await expect(gemini.load()).rejects.toBeInstanceOf(ModelUnavailableError);
    await expect(gemini.health()).resolves.toMatchObject({ state: 'disposed' });
  });
});

/** A URL on 127.0.0.1 where nothing listens: a port the OS gave us and we closed again. */
async function closedPortUrl(): Promise<string> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
