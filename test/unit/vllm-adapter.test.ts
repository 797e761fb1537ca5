import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VllmAdapter, alternativeLabels, labelLogprob, parseRetryAfter, type VllmAdapterOptions } from '../../src/adapters/vllm';
import { AbortedError, InvalidInputError, ModelUnavailableError, RemoteCallError, TimeoutError } from '../../src/core/errors';
import { BANKING77_LABELS, OUT_OF_SCOPE } from '../../src/core/labels';
import { IntentPipeline } from '../../src/pipeline/pipeline';
import { VllmStandIn, envelope, type StandInMode } from '../support/vllm-server';

const MODEL = 'banking-intent';
const CHAT = '/v1/chat/completions';
/** Not banking: the stand-in answers it `out_of_scope` whenever it is offered that label. */
const WEATHER = 'what is the weather tomorrow';

let server: VllmStandIn;
const adapters: VllmAdapter[] = [];

beforeEach(async () => {
  server = await VllmStandIn.start();
});

afterEach(async () => {
  await Promise.all(adapters.splice(0).map((adapter) => adapter.dispose()));
  await server.close();
});

function adapter(options: Partial<VllmAdapterOptions> = {}): VllmAdapter {
  const created = new VllmAdapter({ baseUrl: server.url, model: MODEL, ...options });
  adapters.push(created);
  return created;
}

async function loaded(options: Partial<VllmAdapterOptions> = {}): Promise<VllmAdapter> {
  const created = adapter(options);
  await created.load();
  return created;
}

/** The rejection of `promise`, which must reject. */
async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.unreachable('expected a rejection'),
    (error: unknown) => error,
  );
}

describe('VllmAdapter load', () => {
  it('checks /health and /v1/models, then reports ready on the remote device', async () => {
    const stages: string[] = [];
    const vllm = adapter();
    await vllm.load({ onProgress: (progress) => stages.push(progress.stage) });
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /health', 'GET /v1/models']);
    expect(stages).toEqual(['checking the vLLM server', 'listing the vLLM models']);
    expect(await vllm.health()).toEqual({ state: 'ready', device: 'remote' });
  });

  it('rejects a model the server does not serve, naming the ones it does', async () => {
    const vllm = adapter({ model: 'llama-3-8b' });
    const error = await failure(vllm.load());
    expect(error).toBeInstanceOf(ModelUnavailableError);
    expect((error as Error).message).toMatch(/does not serve the model "llama-3-8b"; it serves: banking-intent\./);
    expect(await vllm.health()).toEqual({ state: 'unavailable', reason: (error as Error).message });
  });

  it('is unavailable without a server URL, and calls nothing', async () => {
    const error = await failure(adapter({ baseUrl: '' }).load());
    expect(error).toBeInstanceOf(ModelUnavailableError);
    expect((error as Error).message).toMatch(/not configured/);
    expect(server.requests).toHaveLength(0);
  });

  it('shares one check between concurrent calls', async () => {
    const vllm = adapter();
    await Promise.all([vllm.load(), vllm.load(), vllm.classify('where is my card')]);
    expect(server.requestsTo('/health')).toHaveLength(1);
    expect(server.requestsTo('/v1/models')).toHaveLength(1);
  });

  it('accepts a base URL written OpenAI-style, ending in /v1/', async () => {
    await loaded({ baseUrl: `${server.url}/v1/` });
    expect(server.requestsTo('/v1/models')).toHaveLength(1);
  });

  it('stops the check when its signal aborts, and a later load starts over', async () => {
    server.setDelay(10_000);
    const vllm = adapter();
    const controller = new AbortController();
    const pending = vllm.load({ signal: controller.signal });
    await server.waitForRequests(1);
    controller.abort();
    expect(await failure(pending)).toBeInstanceOf(AbortedError);
    await expect(server.outcome(server.requests[0]!)).resolves.toBe('cancelled');
    expect((await vllm.health()).state).toBe('idle');
    server.setDelay(0);
    await vllm.load();
    expect((await vllm.health()).state).toBe('ready');
  });

  it('stops the check on dispose: the waiting load rejects, and the adapter stays disposed', async () => {
    server.setDelay(10_000);
    const vllm = adapter();
    const pending = vllm.load();
    await server.waitForRequests(1);
    await vllm.dispose();
    expect(await failure(pending)).toBeInstanceOf(ModelUnavailableError);
    await expect(server.outcome(server.requests[0]!)).resolves.toBe('cancelled');
    expect(await vllm.health()).toEqual({ state: 'disposed', reason: 'The vLLM adapter was disposed.' });
    expect(await failure(vllm.load())).toBeInstanceOf(ModelUnavailableError);
  });
});

describe('VllmAdapter in chat mode', () => {
  it('forces one of the 77 labels or out_of_scope with a strict json_schema at temperature 0 and asks for logprobs', async () => {
    const vllm = await loaded({ apiKey: 'secret-key' });
    await vllm.classify('my new card has still not arrived');
    const [request] = server.requestsTo(CHAT);
    expect(request?.method).toBe('POST');
    expect(request?.headers.authorization).toBe('Bearer secret-key');
    expect(request?.headers['content-type']).toBe('application/json');
    const body = request?.body as Record<string, unknown>;
    expect(body).toMatchObject({ model: MODEL, temperature: 0, logprobs: true, top_logprobs: 5 });
    expect(body.max_tokens).toBeLessThanOrEqual(80);
    expect(body.response_format).toEqual({
      type: 'json_schema',
      json_schema: {
        name: 'intent',
        strict: true,
        schema: {
          type: 'object',
          properties: { intent: { type: 'string', enum: [...BANKING77_LABELS, OUT_OF_SCOPE] } },
          required: ['intent'],
          additionalProperties: false,
        },
      },
    });
    expect(server.receivedEnums()).toEqual([[...BANKING77_LABELS, OUT_OF_SCOPE]]);
    const messages = body.messages as { role: string; content: string }[];
    expect(messages.map((m) => m.role)).toEqual(['system', 'user']);
    for (const label of BANKING77_LABELS) expect(messages[0]!.content).toContain(label);
    expect(messages[0]!.content).toMatch(
      /answer "out_of_scope": greetings and small talk, other subjects .*gibberish.*language other than English/,
    );
    expect(messages[1]!.content).toBe('my new card has still not arrived');
  });

  it('offers out_of_scope once, last, when the configured labels already hold it', async () => {
    await (await loaded({ labels: ['card_arrival', OUT_OF_SCOPE, 'change_pin'] })).classify('where is my card');
    expect(server.receivedEnums()).toEqual([['card_arrival', 'change_pin', OUT_OF_SCOPE]]);
  });

  it('answers out_of_scope with its probability, and the in-scope labels the alternatives name as top', async () => {
    server.setConfidence(0.8);
    // The stand-in's alternatives at the value's first token are the first tokens of the other
    // labels offered, in order (`card`, `lost`, `refun`, `excha`), sharing the 0.2 left: half, a
    // quarter, ... `card` begins two labels, so it names neither.
    const labels = ['card_arrival', 'card_linking', 'lost_or_stolen_card', 'refund_not_showing_up', 'exchange_rate'];
    const prediction = await (await loaded({ labels })).classify(WEATHER, { topK: 3 });
    expect(prediction).toMatchObject({ intent: OUT_OF_SCOPE, model: 'vllm', device: 'remote' });
    expect(prediction.confidence).toBeCloseTo(0.8, 10);
    expect(prediction.top.map((t) => t.intent)).toEqual(['lost_or_stolen_card', 'refund_not_showing_up', 'exchange_rate']);
    expect(prediction.top.map((t) => t.score)).toEqual([0.05, 0.025, 0.0125].map((score) => expect.closeTo(score, 10)));

    // The 77 intents in the publisher's order: `card` (10 labels), `excha` (3), `extra` (1), `pendi` (4).
    const banking = await (await loaded()).classify(WEATHER);
    expect(banking).toMatchObject({
      intent: OUT_OF_SCOPE,
      top: [{ intent: 'extra_charge_on_statement', score: expect.closeTo(0.025, 10) }],
    });
  });

  it('says confidence 1 and an empty top for out_of_scope without logprobs', async () => {
    server.setMode('no-logprobs');
    const prediction = await (await loaded()).classify(WEATHER);
    expect(prediction).toMatchObject({ intent: OUT_OF_SCOPE, confidence: 1, top: [] });
  });

  it('answers the label with the probability of its tokens from logprobs', async () => {
    server.setConfidence(0.83);
    const vllm = await loaded();
    const prediction = await vllm.classify('my new card has still not arrived');
    expect(prediction).toMatchObject({
      intent: 'card_arrival',
      model: 'vllm',
      device: 'remote',
      truncated: false,
      masked: false,
      masked_categories: [],
    });
    // What routing adds is the pipeline's: the adapter answers the model's part only.
    expect(prediction).not.toHaveProperty('fallback_from');
    expect(prediction).not.toHaveProperty('escalated_from');
    // The structural tokens ({"intent": ") carry log(0.98) each on the stand-in: they are left out.
    expect(prediction.confidence).toBeCloseTo(0.83, 10);
    expect(prediction.top).toEqual([{ intent: 'card_arrival', score: prediction.confidence }]);
    expect(prediction.latency_ms).toBeGreaterThanOrEqual(0);
  });

  it('says confidence 0 (unscored) when the server sends no logprobs', async () => {
    server.setMode('no-logprobs');
    const prediction = await (await loaded()).classify('I lost my card');
    expect(prediction.intent).toBe('lost_or_stolen_card');
    expect(prediction.confidence).toBe(0);
    expect(prediction.top).toEqual([{ intent: 'lost_or_stolen_card', score: 0 }]);
  });

  it('masks card numbers and emails before they leave the page', async () => {
    const vllm = await loaded();
    const prediction = await vllm.classify('my card 4111 1111 1111 1111 was charged, mail me at a@b.com');
    const [request] = server.requestsTo(CHAT);
    const sent = JSON.stringify(request?.body);
    const user = (request?.body as { messages: { content: string }[] }).messages[1]!.content;
    for (const secret of ['4111', '1111 1111', '4111111111111111', 'a@b.com']) expect(sent).not.toContain(secret);
    expect(user).toMatch(/charged/);
    expect(prediction).toMatchObject({ masked: true, intent: 'card_payment_fee_charged' });
    // The kinds masked, never the values.
    expect(prediction.masked_categories.length).toBeGreaterThanOrEqual(2);
    for (const secret of ['4111', 'a@b.com']) expect(JSON.stringify(prediction)).not.toContain(secret);
  });

  it('has no switch that sends the text unmasked: the former mask: false is ignored', async () => {
    const options = { mask: false } as Partial<VllmAdapterOptions>;
    const prediction = await (await loaded(options)).classify('mail me at a@b.com about my card delivery');
    const user = (server.requestsTo(CHAT)[0]?.body as { messages: { content: string }[] }).messages[1]!.content;
    expect(user).not.toContain('a@b.com');
    expect(prediction.masked).toBe(true);
  });

  it('an empty message never reaches the server: the pipeline checks it before the adapter', async () => {
    const pipeline = new IntentPipeline({ factories: { vllm: () => adapter() }, active: 'vllm' });
    expect(await failure(pipeline.classify(' \u200b\n'))).toBeInstanceOf(InvalidInputError);
    expect(server.requests).toHaveLength(0);
  });

  it.each<[StandInMode, RegExp]>([
    ['nonsense', /: \{"intent": "pizza_delivery"\}$/],
    ['invalid-json', /\{"intent": "card$/],
    ['empty', /not a label: \(empty text\)$/],
    ['wrong-type', /42/],
    ['missing-field', /\{"label": "card_arrival"\}$/],
    ['null-content', /no message content/],
    ['unconstrained', /The customer is asking about/],
    ['not-json', /not JSON: <html>/],
  ])('turns a %s answer into a non-retryable RemoteCallError', async (mode, detail) => {
    const vllm = await loaded();
    server.setMode(mode);
    const error = await failure(vllm.classify('where is my card'));
    expect(error).toBeInstanceOf(RemoteCallError);
    expect(error).toMatchObject({ status: 200, retryable: false });
    expect((error as Error).message).toMatch(/^vLLM answered something that is not a label: /);
    expect((error as Error).message).toMatch(detail);
    expect(server.requestsTo(CHAT)).toHaveLength(1);
  });
});

describe('VllmAdapter in classify mode', () => {
  it('posts {model, input: [text]} and maps probs to labels, best first', async () => {
    server.setLabel('lost_or_stolen_card');
    server.setConfidence(0.7);
    const vllm = await loaded({ mode: 'classify', apiKey: 'k' });
    const prediction = await vllm.classify('someone took my wallet', { topK: 3 });
    const [request] = server.requestsTo('/classify');
    expect(request?.body).toEqual({ model: MODEL, input: ['someone took my wallet'] });
    expect(request?.headers.authorization).toBe('Bearer k');
    const next = BANKING77_LABELS[BANKING77_LABELS.indexOf('lost_or_stolen_card') + 1]!;
    expect(prediction.intent).toBe('lost_or_stolen_card');
    expect(prediction.confidence).toBeCloseTo(0.7, 10);
    expect(prediction.top).toHaveLength(3);
    expect(prediction.top[0]).toEqual({ intent: 'lost_or_stolen_card', score: prediction.confidence });
    expect(prediction.top[1]?.intent).toBe(next);
    expect(prediction.top[1]?.score).toBeCloseTo(0.15, 10);
    expect(prediction).toMatchObject({ model: 'vllm', device: 'remote', masked: false, masked_categories: [], truncated: false });
  });

  it('returns 5 labels by default', async () => {
    const prediction = await (await loaded({ mode: 'classify' })).classify('my top-up failed');
    expect(prediction.top.map((t) => t.intent)[0]).toBe('top_up_failed');
    expect(prediction.top).toHaveLength(5);
  });

  it.each<[StandInMode, RegExp]>([
    ['short-probs', /76 probabilities for 77 labels/],
    ['nonsense', /: LABEL_0$/],
  ])('turns %s into a non-retryable RemoteCallError', async (mode, detail) => {
    const vllm = await loaded({ mode: 'classify' });
    server.setMode(mode);
    const error = await failure(vllm.classify('where is my card'));
    expect(error).toMatchObject({ status: 200, retryable: false });
    expect((error as Error).message).toMatch(/not a label/);
    expect((error as Error).message).toMatch(detail);
  });

  it('accepts out_of_scope from a head that has it: in-scope labels only in top, confidence 1 - the best of them', async () => {
    await server.close();
    const labels = [...BANKING77_LABELS, OUT_OF_SCOPE];
    server = await VllmStandIn.start({ labels });
    const vllm = await loaded({ mode: 'classify', labels });
    const rejected = await vllm.classify(WEATHER, { topK: 3 });
    // The stand-in gives its answer 0.9 and the label after it (here the first, wrapping round) 0.05.
    expect(rejected.intent).toBe(OUT_OF_SCOPE);
    expect(rejected.top).toHaveLength(3);
    expect(rejected.top[0]).toEqual({ intent: BANKING77_LABELS[0], score: expect.closeTo(0.05, 10) });
    expect(rejected.confidence).toBeCloseTo(0.95, 10);
    const answered = await vllm.classify('I lost my card', { topK: 100 });
    expect(answered).toMatchObject({ intent: 'lost_or_stolen_card', confidence: expect.closeTo(0.9, 10) });
    expect(answered.top).toHaveLength(77);
    for (const prediction of [rejected, answered]) expect(prediction.top.map((t) => t.intent)).not.toContain(OUT_OF_SCOPE);
  });

  it('refuses probabilities from a head whose label order differs from ours', async () => {
    await server.close();
    server = await VllmStandIn.start({ labels: [...BANKING77_LABELS].reverse() });
    const error = await failure((await loaded({ mode: 'classify' })).classify('where is my card'));
    expect(error).toMatchObject({ status: 200, retryable: false });
    expect((error as Error).message).toMatch(/label order differs/);
  });
});

describe('VllmAdapter errors', () => {
  it.each<[number, boolean, RegExp]>([
    [400, false, /^vLLM answered 400: This model's maximum context length is 512 tokens/],
    [401, false, /^vLLM answered 401: Unauthorized \(check the API key\)$/],
    [403, false, /^vLLM answered 403: Error 403/],
    [404, false, /^vLLM answered 404: The model `banking-intent` does not exist\.$/],
    [408, true, /^vLLM answered 408/],
    [409, true, /^vLLM answered 409/],
    [429, true, /^vLLM answered 429/],
    [500, true, /^vLLM answered 500: Error 500$/],
    [502, true, /^vLLM answered 502/],
    [503, true, /^vLLM answered 503: The server is overloaded/],
  ])('maps %i to a RemoteCallError with retryable %s, in one attempt', async (status, retryable, message) => {
    const vllm = await loaded();
    server.failNext(status, undefined, { path: CHAT });
    const error = await failure(vllm.classify('where is my card'));
    expect(error).toBeInstanceOf(RemoteCallError);
    expect(error).toMatchObject({ status, retryable, retryAfterMs: undefined });
    expect((error as Error).message).toMatch(message);
    expect(server.requestsTo(CHAT)).toHaveLength(1);
  });

  it('says which adapter called which URL, and keeps the error body as it came', async () => {
    const vllm = await loaded();
    server.failNext(503, envelope('The server is overloaded', 'ServiceUnavailableError', 503), { path: CHAT });
    const error = (await failure(vllm.classify('where is my card'))) as RemoteCallError;
    expect(error).toMatchObject({ model: 'vllm', status: 503, retryable: true, url: `${server.url}${CHAT}` });
    expect(JSON.parse(error.responseBody!)).toMatchObject({ error: { message: 'The server is overloaded' } });
  });

  it('keeps the parse error as the cause of a 200 whose body is not JSON', async () => {
    const vllm = await loaded();
    server.failNext(200, 'surely not json', { path: CHAT });
    const error = (await failure(vllm.classify('where is my card'))) as RemoteCallError;
    expect(error).toBeInstanceOf(RemoteCallError);
    expect(error).toMatchObject({ status: 200, retryable: false, responseBody: 'surely not json', url: `${server.url}${CHAT}` });
    expect((error as Error).message).toMatch(/not JSON/);
    expect(error.cause).toBeInstanceOf(SyntaxError);
  });

  it('passes on the server’s own 400 for a message longer than the context', async () => {
    const error = await failure((await loaded()).classify('card '.repeat(600)));
    expect(error).toMatchObject({ status: 400, retryable: false });
    expect((error as Error).message).toMatch(/maximum context length is 512 tokens\. However, your request has \d+ input tokens/);
  });

  it('reads the older flat error envelope', async () => {
    const vllm = await loaded();
    server.failNext(400, { object: 'error', message: 'top_logprobs must be <= 20', type: 'BadRequestError', param: null, code: 400 });
    const error = await failure(vllm.classify('where is my card'));
    expect((error as Error).message).toBe('vLLM answered 400: top_logprobs must be <= 20');
  });

  it('reads the current nested envelope', async () => {
    const vllm = await loaded();
    server.failNext(400, envelope('temperature must be non-negative', 'BadRequestError', 400, 'temperature'));
    expect(((await failure(vllm.classify('where is my card'))) as Error).message).toBe(
      'vLLM answered 400: temperature must be non-negative',
    );
  });

  it('quotes a proxy’s non-JSON error page, clipped', async () => {
    const vllm = await loaded();
    server.failNext(502, `<html><body>Bad Gateway ${'x'.repeat(1000)}</body></html>`);
    const error = await failure(vllm.classify('where is my card'));
    expect(error).toMatchObject({ status: 502, retryable: true });
    expect((error as Error).message).toMatch(/^vLLM answered 502: <html><body>Bad Gateway x+…$/);
    expect((error as Error).message.length).toBeLessThan(400);
  });

  it('gets 401 {"error":"Unauthorized"} with a wrong or missing key, and sends the right one on every request', async () => {
    await server.close();
    server = await VllmStandIn.start({ apiKey: 'right' });
    for (const apiKey of ['wrong', undefined]) {
      const error = await failure(adapter({ apiKey }).load());
      expect(error).toBeInstanceOf(RemoteCallError);
      expect(error).toMatchObject({ status: 401, retryable: false, message: 'vLLM answered 401: Unauthorized (check the API key)' });
    }
    const before = server.requests.length;
    await (await loaded({ apiKey: 'right' })).classify('where is my card');
    const sent = server.requests.slice(before);
    expect(sent.map((r) => r.headers.authorization)).toEqual(['Bearer right', 'Bearer right', 'Bearer right']);
  });

  it('reads Retry-After in seconds and as an HTTP date', async () => {
    const vllm = await loaded();
    server.failNext(503, undefined, { headers: { 'Retry-After': '7' } });
    expect(await failure(vllm.classify('where is my card'))).toMatchObject({ status: 503, retryable: true, retryAfterMs: 7000 });

    server.failNext(429, undefined, { headers: { 'Retry-After': new Date(Date.now() + 30_000).toUTCString() } });
    const error = (await failure(vllm.classify('where is my card'))) as RemoteCallError;
    expect(error).toMatchObject({ status: 429, retryable: true });
    expect(error.retryAfterMs).toBeGreaterThan(25_000);
    expect(error.retryAfterMs).toBeLessThanOrEqual(30_000);
  });

  it('parses Retry-After values', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('marks the adapter unavailable when the model disappears, and checks the list again next time', async () => {
    const vllm = await loaded();
    server.failNext(404, undefined, { path: CHAT });
    expect(await failure(vllm.classify('where is my card'))).toMatchObject({ status: 404, retryable: false });
    expect((await vllm.health()).state).toBe('unavailable');
    await vllm.classify('where is my card');
    expect(server.requestsTo('/v1/models')).toHaveLength(2);
    expect((await vllm.health()).state).toBe('ready');
  });

  it('turns a closed port into a retryable RemoteCallError naming the URL', async () => {
    const gone = await VllmStandIn.start();
    await gone.close();
    const vllm = new VllmAdapter({ baseUrl: gone.url, model: MODEL });
    adapters.push(vllm);
    const error = await failure(vllm.classify('where is my card'));
    expect(error).toBeInstanceOf(RemoteCallError);
    expect(error).toMatchObject({ status: undefined, retryable: true, model: 'vllm', url: `${gone.url}/health` });
    expect((error as Error).message).toContain(`Could not reach vLLM at ${gone.url}/health`);
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
    // The original failure is kept, not only quoted: fetch's TypeError, and its reason beneath it.
    const cause = (error as Error).cause as Error & { cause?: { code?: string } };
    expect(cause).toBeInstanceOf(TypeError);
    expect(cause.cause?.code).toBe('ECONNREFUSED');
  });

  it('turns a server that went away after loading into a retryable RemoteCallError', async () => {
    const vllm = await loaded();
    await server.close();
    const error = await failure(vllm.classify('where is my card'));
    expect(error).toMatchObject({ status: undefined, retryable: true });
    expect((error as Error).message).toContain(`${server.url}${CHAT}`);
  });
});

describe('VllmAdapter cancellation', () => {
  it('rejects with AbortedError at once when the caller aborts a slow answer, and the server sees the hang-up', async () => {
    const vllm = await loaded();
    server.setDelay(10_000);
    const controller = new AbortController();
    const pending = vllm.classify('where is my card', { signal: controller.signal });
    await server.waitForRequests(3);
    const started = performance.now();
    controller.abort();
    expect(await failure(pending)).toBeInstanceOf(AbortedError);
    expect(performance.now() - started).toBeLessThan(500);
    await expect(server.outcome(server.requestsTo(CHAT)[0]!)).resolves.toBe('cancelled');
  });

  it('sends nothing when the signal is already aborted', async () => {
    const vllm = await loaded();
    expect(await failure(vllm.classify('where is my card', { signal: AbortSignal.abort() }))).toBeInstanceOf(AbortedError);
    expect(server.requestsTo(CHAT)).toHaveLength(0);
  });

  it('turns an AbortSignal.timeout into a TimeoutError', async () => {
    const vllm = await loaded();
    server.setDelay(10_000);
    const error = await failure(vllm.classify('where is my card', { signal: AbortSignal.timeout(100) }));
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ retryable: true });
    expect((error as Error).cause).toMatchObject({ name: 'TimeoutError' });
  });

  it('maps an already timed-out signal to TimeoutError and an already aborted one to AbortedError, sending nothing', async () => {
    const vllm = await loaded();
    const timedOut = AbortSignal.timeout(1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await failure(vllm.classify('where is my card', { signal: timedOut }))).toBeInstanceOf(TimeoutError);
    expect(await failure(vllm.classify('where is my card', { signal: AbortSignal.abort() }))).toBeInstanceOf(AbortedError);
    expect(server.requestsTo(CHAT)).toHaveLength(0);
  });

  it('cancels calls in flight on dispose and refuses later ones', async () => {
    const vllm = await loaded();
    server.setDelay(10_000);
    const pending = vllm.classify('where is my card');
    await server.waitForRequests(3);
    await vllm.dispose();
    expect(await failure(pending)).toBeInstanceOf(ModelUnavailableError);
    await expect(server.outcome(server.requestsTo(CHAT)[0]!)).resolves.toBe('cancelled');
    expect(await failure(vllm.classify('where is my card'))).toBeInstanceOf(ModelUnavailableError);
    expect(await failure(vllm.load())).toBeInstanceOf(ModelUnavailableError);
    expect((await vllm.health()).state).toBe('disposed');
  });
});

describe('labelLogprob', () => {
  const token = (text: string, logprob: number) => ({ token: text, logprob, top_logprobs: [] });

  it('sums the tokens of the value and its closing quote only', () => {
    const tokens = [
      token('{"', -0.1),
      token('intent', -0.1),
      token('": "', -0.1),
      token('card', -0.2),
      token('_arrival', -0.3),
      token('"}', -0.4),
    ];
    expect(labelLogprob(tokens, 'card_arrival')).toBeCloseTo(-0.9, 10);
  });

  it('falls back to the whole answer when the tokens do not spell the value', () => {
    expect(labelLogprob([token('card_arrival', -0.5), token('!', -0.25)], 'card_arrival')).toBeCloseTo(-0.75, 10);
  });

  it('is undefined without usable logprobs, and a positive, infinite or NaN logprob is not usable', () => {
    for (const bad of [0.5, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN])
      expect(labelLogprob([token('card_arrival', bad)], 'card_arrival'), String(bad)).toBeUndefined();
    expect(labelLogprob([token('card_arrival', 0)], 'card_arrival')).toBe(0);
    expect(labelLogprob(undefined, 'card_arrival')).toBeUndefined();
    expect(labelLogprob([], 'card_arrival')).toBeUndefined();
    expect(labelLogprob([{ token: 'x' }], 'card_arrival')).toBeUndefined();
  });
});

describe('alternativeLabels', () => {
  const entry = (text: string, logprob: number, alternatives: [string, number][] = []) => ({
    token: text,
    logprob,
    top_logprobs: [[text, logprob], ...alternatives].map(([token, lp]) => ({ token, logprob: lp })),
  });
  const choices = ['card_arrival', 'card_linking', 'lost_or_stolen_card', 'refund_not_showing_up', OUT_OF_SCOPE];

  it('names each label that exactly one alternative begins, skipping shared prefixes and out_of_scope', () => {
    const tokens = [
      entry('{"intent": "', -0.01),
      entry('out', -0.2, [
        ['card', Math.log(0.1)], // begins two labels: cannot be attributed
        ['lost', Math.log(0.05)],
        ['ref', Math.log(0.08)],
        ['xyz', Math.log(0.01)], // begins none
      ]),
      entry('_of_scope"}', -0.01),
    ];
    const top = alternativeLabels(tokens, choices);
    expect(top.map((t) => t.intent)).toEqual(['refund_not_showing_up', 'lost_or_stolen_card']);
    expect(top[0]!.score).toBeCloseTo(0.08, 10);
  });

  it('reads alternatives whose token carries the opening quote, or the whole label and its closing quote', () => {
    const tokens = [
      entry('{"intent": ', -0.01),
      entry('"out', -0.2, [
        ['"lost', -3],
        ['"card_linking"}', -4],
      ]),
      entry('_of_scope"}', -0.01),
    ];
    expect(alternativeLabels(tokens, choices).map((t) => t.intent)).toEqual(['lost_or_stolen_card', 'card_linking']);
  });

  it('is empty without usable logprobs or without the intent key', () => {
    expect(alternativeLabels(undefined, choices)).toEqual([]);
    expect(alternativeLabels([{ token: 'x' }], choices)).toEqual([]);
    expect(alternativeLabels([entry('out_of_scope', -0.1, [['lost', -1]])], choices)).toEqual([]);
  });
});

describe('the vLLM stand-in', () => {
  it('answers out_of_scope only when the request offers it and the message has no banking word', async () => {
    const ask = async (labels: string[], text: string) => {
      const response = await fetch(`${server.url}${CHAT}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: MODEL,
          messages: [{ role: 'user', content: text }],
          response_format: { type: 'json_schema', json_schema: { name: 'intent', schema: { properties: { intent: { enum: labels } } } } },
        }),
      });
      const body = (await response.json()) as { choices: { message: { content: string } }[] };
      return (JSON.parse(body.choices[0]!.message.content) as { intent: string }).intent;
    };
    expect(await ask([...BANKING77_LABELS, OUT_OF_SCOPE], 'book me a table for two at 8pm')).toBe(OUT_OF_SCOPE);
    expect(await ask([...BANKING77_LABELS], 'book me a table for two at 8pm')).not.toBe(OUT_OF_SCOPE);
    expect(await ask([...BANKING77_LABELS, OUT_OF_SCOPE], 'my wallet was stolen with my card in it')).toBe('lost_or_stolen_card');
  });

  it('fails inference at random from a seed, counts complete answers, and resets', async () => {
    const vllm = await loaded();
    server.setRandomFailures({ rate: 1, statuses: [503], seed: 1 });
    expect(await failure(vllm.classify('where is my card'))).toMatchObject({ status: 503, retryable: true });
    server.setRandomFailures({ rate: 0, statuses: [503], seed: 1 });
    await vllm.classify('where is my card');
    expect(server.answered(CHAT)).toBe(1);
    server.reset();
    expect([server.requests.length, server.answered(CHAT)]).toEqual([0, 0]);
  });
});

describe('the vLLM stand-in with cors', () => {
  it('answers preflights apart from the recorded requests and allows any origin', async () => {
    const cors = await VllmStandIn.start({ cors: true });
    try {
      const preflight = await fetch(`${cors.url}${CHAT}`, {
        method: 'OPTIONS',
        headers: {
          Origin: 'http://127.0.0.1:4173',
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'authorization,content-type',
        },
      });
      expect(preflight.status).toBe(200);
      expect(preflight.headers.get('access-control-allow-headers')).toBe('authorization,content-type');
      const health = await fetch(`${cors.url}/health`, { headers: { Origin: 'http://127.0.0.1:4173' } });
      expect(health.headers.get('access-control-allow-origin')).toBe('*');
      expect(cors.preflights).toHaveLength(1);
      expect(cors.requests.map((r) => r.path)).toEqual(['/health']);
    } finally {
      await cors.close();
    }
  });
});
