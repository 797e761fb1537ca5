/**
 * A stand-in for a vLLM OpenAI-compatible server, on 127.0.0.1 with a free port, answering in
 * vLLM's wire format: `GET /health`, `GET /v1/models`, `POST /v1/chat/completions`,
 * `POST /classify`, its error envelopes and its API key check.
 *
 * It is a test double, not a classifier: the label comes from a fixed choice (`setLabel`), else
 * `out_of_scope` when the labels it may answer (the chat request's enum, or the `/classify` head's
 * labels) include it and the message has no banking word (test/support/not-banking.ts), else a few
 * keywords, so every answer is known in advance; `receivedEnums()` shows what each chat request
 * offered. It records every request (method, path, headers, parsed body) and whether the client
 * hung up before the answer, and its failures are switchable per test: `failNext(status, body, { times, headers, path })`, `setMode('nonsense')`,
 * `setDelay(ms)`, `setRandomFailures({ rate, statuses, seed })`, `redirectNext(307, url)` (a
 * redirect to another server, e.g. a second stand-in that logs what reaches it),
 * `sendHugeNext(bytes)` (an answer too large to read, streamed as the client reads it);
 * `reset()` undoes them all.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BANKING77_LABELS } from '../../src/core/labels';
import { outOfScopeAnswer } from './not-banking';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The body parsed as JSON, the raw text when it is not JSON, `undefined` when empty. */
  body: unknown;
}

/** How the server answers a request that passes every check (status 200). */
export type StandInMode =
  /** Valid answers. */
  | 'ok'
  /** Chat: `{"intent": "pizza_delivery"}`; classify: an `id2label`-less `LABEL_<n>`. */
  | 'nonsense'
  /** Chat: JSON cut off by `max_tokens` (`finish_reason: "length"`). */
  | 'invalid-json'
  /** Chat: an empty string as content. */
  | 'empty'
  /** Chat: `{"intent": 42}`. */
  | 'wrong-type'
  /** Chat: `{"label": "<label>"}`. */
  | 'missing-field'
  /** Chat: `content: null`, as for a tool call. */
  | 'null-content'
  /** Chat: free text, as when the server ignores the response format (e.g. `guided_choice` after v0.12). */
  | 'unconstrained'
  /** Chat: a valid answer without `logprobs`. */
  | 'no-logprobs'
  /** Classify: one probability fewer than labels. */
  | 'short-probs'
  /** Any endpoint: an HTML page with status 200, as from a misconfigured proxy. */
  | 'not-json';

export interface StandInOptions {
  /** Port on 127.0.0.1; default 0, a free one the system picks. */
  port?: number;
  /** Model ids served (`--served-model-name`). Default `['banking-intent']`. */
  models?: string[];
  /** When set, every path but `/health` needs `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** The classifier head's labels, in order, for `/classify`. Default: Banking77. */
  labels?: readonly string[];
  /** Context length in (whitespace-separated) tokens; longer requests get vLLM's 400. Default 512. */
  maxContextTokens?: number;
  /**
   * Answer CORS like vLLM's defaults (`--allowed-origins '*'`, all methods and headers), so that a
   * page on another origin can call it. Retry-After is not exposed, as in vLLM. Default false.
   */
  cors?: boolean;
}

interface Failure {
  status: number;
  body: unknown;
  headers: Record<string, string>;
  times: number;
  path: string | undefined;
}

interface Huge {
  bytes: number;
  contentLength: boolean;
  times: number;
  path: string | undefined;
}

/** One streamed huge answer: how much of it went out before the client hung up. */
export interface StreamRecord {
  total: number;
  /** Bytes handed to the socket (the client may not have read them all). */
  written: number;
  /** Whether every byte was written: the client read it to the end. */
  completed: boolean;
}

/** Deterministic answers for texts the tests send; first match wins. */
const KEYWORDS: [RegExp, string][] = [
  [/\b(arriv|deliver|come)\w*/i, 'card_arrival'],
  [/\b(lost|stolen)\b/i, 'lost_or_stolen_card'],
  [/\bcharged twice\b/i, 'transaction_charged_twice'],
  [/\b(charged|fee)\b/i, 'card_payment_fee_charged'],
  [/\bexchange rate\b/i, 'exchange_rate'],
  [/\btop.?up\b/i, 'top_up_failed'],
  [/\bpin\b/i, 'change_pin'],
];
const DEFAULT_LABEL = 'card_arrival';
const DEFAULT_CONFIDENCE = 0.9;
/** The endpoints that run the model; random failures hit only these, never the load checks. */
const INFERENCE_PATHS = ['/v1/chat/completions', '/classify'];

export interface RandomFailures {
  /** Share of inference requests that fail, in [0, 1]. */
  rate: number;
  /** Statuses to fail with, picked at random; each gets its default body. */
  statuses: number[];
  /** Seed of the generator, so that a run can be repeated. */
  seed: number;
}

export class VllmStandIn {
  /** Every request in arrival order. */
  readonly requests: RecordedRequest[] = [];
  /** CORS preflights (with `cors: true`), kept apart: the browser sends them, not the adapter. */
  readonly preflights: RecordedRequest[] = [];
  private readonly outcomes = new Map<RecordedRequest, Promise<'answered' | 'cancelled'>>();
  private readonly waiters: (() => void)[] = [];
  private readonly failures: Failure[] = [];
  private readonly huge: Huge[] = [];
  /** Every huge answer sent (`sendHugeNext`), in order. */
  readonly streams: StreamRecord[] = [];
  private mode: StandInMode = 'ok';
  private label: string | undefined;
  private confidence = DEFAULT_CONFIDENCE;
  private delayMs = 0;
  private random: { rate: number; statuses: number[]; next: () => number } | undefined;
  /** Complete 200 answers per path. */
  private readonly answers = new Map<string, number>();
  private readonly models: string[];
  private readonly labels: readonly string[];
  private readonly maxContextTokens: number;

  private readonly server: Server;
  private origin = '';

  private constructor(private readonly options: StandInOptions) {
    this.models = options.models ?? ['banking-intent'];
    this.labels = options.labels ?? BANKING77_LABELS;
    this.maxContextTokens = options.maxContextTokens ?? 512;
    this.server = createServer((req, res) => {
      // A client that hangs up while sending its body is not an error of the stand-in.
      this.handle(req, res).catch(() => res.destroy());
    });
  }

  /** Starts a stand-in on 127.0.0.1 with a port the system picks. */
  static async start(options: StandInOptions = {}): Promise<VllmStandIn> {
    const standIn = new VllmStandIn(options);
    await new Promise<void>((resolve) => standIn.server.listen(options.port ?? 0, '127.0.0.1', resolve));
    const { port } = standIn.server.address() as AddressInfo;
    standIn.origin = `http://127.0.0.1:${port}`;
    return standIn;
  }

  /** `http://127.0.0.1:<port>`; still answers after `close()`, for tests of a closed port. */
  get url(): string {
    return this.origin;
  }

  /** The next `times` requests (to `path`, if given) get this status and body instead of an answer. */
  failNext(status: number, body?: unknown, options: { times?: number; headers?: Record<string, string>; path?: string } = {}): void {
    this.failures.push({
      status,
      body: body === undefined ? defaultErrorBody(status) : body,
      headers: options.headers ?? {},
      times: options.times ?? 1,
      path: options.path,
    });
  }

  /** The next `times` requests (to `path`, if given) are redirected to `location` with `status`. */
  redirectNext(status: 301 | 302 | 303 | 307 | 308, location: string, options: { times?: number; path?: string } = {}): void {
    this.failNext(status, '', { ...options, headers: { location } });
  }

  /**
   * The next `times` requests (to `path`, if given) get a 200 answer of `bytes` bytes, streamed as
   * fast as the client reads (`streams` says how far it got), with a `Content-Length` header
   * unless `contentLength` is false (then chunked, so the client learns the size only by reading).
   */
  sendHugeNext(bytes: number, options: { contentLength?: boolean; times?: number; path?: string } = {}): void {
    this.huge.push({ bytes, contentLength: options.contentLength ?? true, times: options.times ?? 1, path: options.path });
  }

  setMode(mode: StandInMode): void {
    this.mode = mode;
  }

  /** Always answer this label (if the request's schema allows it); `undefined` goes back to keywords. */
  setLabel(label: string | undefined): void {
    this.label = label;
  }

  /** Probability of the answered label: in the label tokens' logprobs (chat) and in `probs` (classify). */
  setConfidence(confidence: number): void {
    this.confidence = confidence;
  }

  /** Wait this long before answering (the client may hang up meanwhile). */
  setDelay(ms: number): void {
    this.delayMs = ms;
  }

  /** The label enum of each chat request, in order: what the client let the model answer. */
  receivedEnums(): (string[] | undefined)[] {
    return this.requestsTo('/v1/chat/completions').map((request) =>
      isRecord(request.body) ? readEnum(request.body.response_format) : undefined,
    );
  }

  /** Requests to one path, in order. */
  requestsTo(path: string): RecordedRequest[] {
    return this.requests.filter((request) => request.path === path);
  }

  /** Resolves once `count` requests in all have arrived. */
  waitForRequests(count: number): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (this.requests.length < count) return false;
        resolve();
        return true;
      };
      if (!check()) this.waiters.push(() => void check());
    });
  }

  /** Whether the server answered `request` or the client hung up first. */
  outcome(request: RecordedRequest): Promise<'answered' | 'cancelled'> {
    const outcome = this.outcomes.get(request);
    if (!outcome) throw new Error(`not a request to this server: ${request.method} ${request.path}`);
    return outcome;
  }

  /**
   * From now on, each request to an inference endpoint fails with probability `rate` and a status
   * drawn from `statuses` (after any `failNext`). The draws come from a seeded generator.
   */
  setRandomFailures(failures: RandomFailures | undefined): void {
    this.random = failures && { rate: failures.rate, statuses: failures.statuses, next: mulberry32(failures.seed) };
  }

  /** How many 200 answers to `path` were sent completely (the client did not hang up first). */
  answered(path: string): number {
    return this.answers.get(path) ?? 0;
  }

  /** Back to plain answers: no failures, no delay, keyword labels, and no recorded requests. */
  reset(): void {
    this.requests.length = 0;
    this.preflights.length = 0;
    this.outcomes.clear();
    this.answers.clear();
    this.failures.length = 0;
    this.huge.length = 0;
    this.streams.length = 0;
    this.mode = 'ok';
    this.label = undefined;
    this.confidence = DEFAULT_CONFIDENCE;
    this.delayMs = 0;
    this.random = undefined;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const text = await readBody(req);
    const record: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, headers: req.headers, body: parseBody(text) };
    const cors: Record<string, string> = this.options.cors ? { 'access-control-allow-origin': '*' } : {};
    if (this.options.cors && record.method === 'OPTIONS' && req.headers['access-control-request-method']) {
      // Answered by the CORS middleware before any route, API key check or injected failure.
      this.preflights.push(record);
      res.writeHead(200, {
        ...cors,
        'access-control-allow-methods': 'DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT',
        'access-control-allow-headers': req.headers['access-control-request-headers'] ?? '*',
        'access-control-max-age': '600',
        'content-type': 'text/plain; charset=utf-8',
      });
      res.end('OK');
      return;
    }
    this.outcomes.set(record, new Promise((resolve) => res.on('close', () => resolve(res.writableFinished ? 'answered' : 'cancelled'))));
    this.requests.push(record);
    for (const waiter of this.waiters.splice(0)) waiter();

    if (this.delayMs > 0) {
      const delay = this.delayMs;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        res.on('close', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      if (res.destroyed || res.writableEnded) return;
    }
    const huge = this.huge.find((h) => h.path === undefined || h.path === record.path);
    if (huge) {
      huge.times -= 1;
      if (huge.times <= 0) this.huge.splice(this.huge.indexOf(huge), 1);
      await streamHuge(res, huge, cors, this.streams);
      return;
    }
    const [status, body, headers] = this.answer(record);
    const payload = typeof body === 'string' ? body : JSON.stringify(body);
    const type = typeof body === 'string' ? 'text/html; charset=utf-8' : 'application/json';
    if (status === 200) res.on('finish', () => this.answers.set(record.path, this.answered(record.path) + 1));
    res.writeHead(status, { 'content-type': type, ...cors, ...headers });
    res.end(payload);
  }

  /** What vLLM would answer, in its order: injected failure, API key, route, model, request checks. */
  private answer(request: RecordedRequest): [number, unknown, Record<string, string>?] {
    const failure = this.failures.find((f) => f.path === undefined || f.path === request.path);
    if (failure) {
      failure.times -= 1;
      if (failure.times <= 0) this.failures.splice(this.failures.indexOf(failure), 1);
      return [failure.status, failure.body, failure.headers];
    }
    if (this.random && INFERENCE_PATHS.includes(request.path) && this.random.next() < this.random.rate) {
      const { statuses, next } = this.random;
      const status = statuses[Math.floor(next() * statuses.length)] ?? 500;
      return [status, defaultErrorBody(status)];
    }
    if (this.options.apiKey && request.path !== '/health' && request.headers.authorization !== `Bearer ${this.options.apiKey}`) {
      return [401, { error: 'Unauthorized' }];
    }
    const route = `${request.method} ${request.path}`;
    if (route === 'GET /health') return [200, ''];
    if (this.mode === 'not-json') return [200, '<html><body>Welcome to nginx!</body></html>'];
    if (route === 'GET /v1/models') return [200, this.modelList()];
    if (route !== 'POST /v1/chat/completions' && route !== 'POST /classify') {
      const known = ['/health', '/v1/models', '/v1/chat/completions', '/classify'].includes(request.path);
      return known ? [405, { detail: 'Method Not Allowed' }] : [404, { detail: 'Not Found' }];
    }
    const body = request.body;
    if (!isRecord(body)) return [400, envelope('Expected a JSON object as the request body.', 'BadRequestError', 400)];
    if (typeof body.model !== 'string' || !this.models.includes(body.model)) {
      return [404, envelope(`The model \`${String(body.model)}\` does not exist.`, 'NotFoundError', 404)];
    }
    const texts = request.path === '/classify' ? inputTexts(body.input) : messageTexts(body.messages);
    if (!texts) return [400, envelope('Invalid request: no input.', 'BadRequestError', 400)];
    const tokens = texts.join(' ').split(/\s+/).filter(Boolean).length;
    if (tokens > this.maxContextTokens) {
      const message =
        `This model's maximum context length is ${this.maxContextTokens} tokens. However, your request has ${tokens} input tokens. ` +
        'Please reduce the length of the input messages.';
      return [400, envelope(message, 'BadRequestError', 400, 'input_tokens')];
    }
    // The user's turn decides the label, not the system prompt that lists every label.
    const said = texts[texts.length - 1] ?? '';
    return request.path === '/classify' ? [200, this.classification(body.model, texts)] : [200, this.chatCompletion(body, said)];
  }

  private modelList(): unknown {
    const created = Math.floor(Date.now() / 1000);
    return {
      object: 'list',
      data: this.models.map((id) => ({
        id,
        object: 'model',
        created,
        owned_by: 'vllm',
        root: id,
        parent: null,
        max_model_len: this.maxContextTokens,
        permission: [
          { id: `modelperm-${id}`, object: 'model_permission', created, allow_logprobs: true, organization: '*', is_blocking: false },
        ],
      })),
    };
  }

  private pick(text: string, allowed: readonly string[]): string {
    const wanted = this.label ?? outOfScopeAnswer(text, allowed) ?? KEYWORDS.find(([pattern]) => pattern.test(text))?.[1] ?? DEFAULT_LABEL;
    return allowed.includes(wanted) ? wanted : (allowed[0] ?? wanted);
  }

  private chatCompletion(body: Record<string, unknown>, said: string): unknown {
    const schemaEnum = readEnum(body.response_format);
    const label = this.pick(said, schemaEnum ?? this.labels);
    let finish = 'stop';
    let content: string | null = `{"intent": "${label}"}`;
    if (this.mode === 'nonsense') content = '{"intent": "pizza_delivery"}';
    if (this.mode === 'invalid-json') [content, finish] = [`{"intent": "${label.slice(0, 4)}`, 'length'];
    if (this.mode === 'empty') content = '';
    if (this.mode === 'wrong-type') content = '{"intent": 42}';
    if (this.mode === 'missing-field') content = `{"label": "${label}"}`;
    if (this.mode === 'null-content') content = null;
    // Without a response format (or with one it ignores) a chat model just talks.
    if (this.mode === 'unconstrained' || !schemaEnum) content = `The customer is asking about ${label.replace(/_/g, ' ')}.`;

    const wantsLogprobs = body.logprobs === true && this.mode !== 'no-logprobs' && content !== null;
    const topLogprobs = typeof body.top_logprobs === 'number' ? body.top_logprobs : 0;
    const others = (schemaEnum ?? this.labels).filter((other) => other !== label);
    const logprobs = wantsLogprobs ? { content: tokenLogprobs(content ?? '', label, others, this.confidence, topLogprobs) } : null;
    const completionTokens = logprobs?.content.length ?? 8;
    return {
      id: `chatcmpl-${this.requests.length}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: body.model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content, refusal: null, reasoning_content: null, tool_calls: [] },
          logprobs,
          finish_reason: finish,
          stop_reason: null,
        },
      ],
      usage: { prompt_tokens: 900, completion_tokens: completionTokens, total_tokens: 900 + completionTokens },
      prompt_logprobs: null,
    };
  }

  private classification(model: unknown, texts: string[]): unknown {
    const n = this.labels.length;
    return {
      id: `classify-${this.requests.length}`,
      object: 'list',
      created: Math.floor(Date.now() / 1000),
      model,
      data: texts.map((text, index) => {
        const best = this.labels.indexOf(this.pick(text, this.labels));
        // The label gets `confidence`, the next one half of the rest, the others share the remainder.
        const rest = 1 - this.confidence;
        const probs = this.labels.map((_, i) => (i === best ? this.confidence : i === (best + 1) % n ? rest / 2 : rest / 2 / (n - 2)));
        if (this.mode === 'short-probs') probs.pop();
        const label = this.mode === 'nonsense' ? `LABEL_${best}` : this.labels[best];
        return { index, label, probs, num_classes: probs.length };
      }),
      usage: { prompt_tokens: 12, total_tokens: 12, completion_tokens: 0, prompt_tokens_details: null },
    };
  }
}

/**
 * Chat logprobs as vLLM sends them: one entry per generated token with its alternatives. The
 * tokens spelling the label and its closing quote share `log(confidence)`; structural tokens get
 * log(0.98), so a client that sums everything gets a different number than one that reads the label.
 * At the label's first token the alternatives are the first tokens of `others` (the other labels
 * offered, in order; distinct), sharing what `confidence` leaves: half, a quarter, ...; elsewhere
 * they are placeholders (`alt0`, ...).
 */
function tokenLogprobs(content: string, label: string, others: readonly string[], confidence: number, topLogprobs: number) {
  const tokens = tokenize(content);
  const valueStart = content.indexOf(`"${label}"`) + 1;
  const valueEnd = valueStart > 0 ? valueStart + label.length + 1 : -1;
  let offset = 0;
  const spans = tokens.map((token) => {
    const start = offset;
    offset += token.length;
    return { token, first: valueStart > 0 && start === valueStart, inLabel: valueStart > 0 && offset > valueStart && start < valueEnd };
  });
  const labelTokens = spans.filter((s) => s.inLabel).length;
  const rest = Math.max(1e-6, 1 - confidence);
  return spans.map(({ token, first, inLabel }) => {
    const logprob = inLabel ? Math.log(confidence) / labelTokens : Math.log(0.98);
    const texts = first
      ? [...new Set(others.map((other) => tokenize(other)[0] ?? other))].filter((text) => text !== token)
      : Array.from({ length: topLogprobs }, (_, i) => `alt${i}`);
    const alternatives = texts.slice(0, Math.max(0, topLogprobs - 1)).map((text, i) => ({
      token: text,
      logprob: first ? Math.log(rest / 2 ** (i + 1)) : logprob - 2 - i,
      bytes: [...Buffer.from(text)],
    }));
    return {
      token,
      logprob,
      bytes: [...Buffer.from(token)],
      top_logprobs: topLogprobs > 0 ? [{ token, logprob, bytes: [...Buffer.from(token)] }, ...alternatives] : [],
    };
  });
}

/** How the stand-in splits text into tokens: runs of up to 5 letters, or 1-2 other characters. */
function tokenize(text: string): string[] {
  return text.match(/[A-Za-z]{1,5}|[^A-Za-z]{1,2}/g) ?? [];
}

/** Writes `huge.bytes` bytes (not JSON), waiting for the client to read each chunk; shared with the Gemini stand-in. */
export async function streamHuge(
  res: ServerResponse,
  huge: { bytes: number; contentLength: boolean },
  headers: Record<string, string>,
  streams: StreamRecord[],
): Promise<void> {
  const record: StreamRecord = { total: huge.bytes, written: 0, completed: false };
  streams.push(record);
  res.writeHead(200, {
    'content-type': 'application/json',
    ...headers,
    ...(huge.contentLength ? { 'content-length': String(huge.bytes) } : {}),
  });
  const chunk = Buffer.alloc(64 * 1024, 'x');
  while (record.written < huge.bytes && !res.destroyed) {
    const size = Math.min(chunk.length, huge.bytes - record.written);
    const drained = res.write(size === chunk.length ? chunk : chunk.subarray(0, size));
    record.written += size;
    if (!drained) {
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    }
  }
  if (res.destroyed) return;
  res.end();
  record.completed = true;
}

/** vLLM's current error envelope. */
export function envelope(message: string, type: string, code: number, param: string | null = null) {
  return { error: { message, type, param, code } };
}

function defaultErrorBody(status: number): unknown {
  switch (status) {
    case 400:
      return envelope(
        "This model's maximum context length is 512 tokens. However, your request has 700 input tokens. Please reduce the length of the input messages.",
        'BadRequestError',
        400,
        'input_tokens',
      );
    case 401:
      return { error: 'Unauthorized' };
    case 404:
      return envelope('The model `banking-intent` does not exist.', 'NotFoundError', 404);
    case 503:
      return envelope('The server is overloaded: too many requests are waiting.', 'ServiceUnavailableError', 503);
    default:
      return envelope(`Error ${status}`, status >= 500 ? 'InternalServerError' : 'BadRequestError', status);
  }
}

/** A small seeded generator of numbers in [0, 1) (mulberry32). */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function readEnum(responseFormat: unknown): string[] | undefined {
  if (!isRecord(responseFormat) || responseFormat.type !== 'json_schema' || !isRecord(responseFormat.json_schema)) return undefined;
  const schema = responseFormat.json_schema.schema;
  const properties = isRecord(schema) ? schema.properties : undefined;
  const intent = isRecord(properties) ? properties.intent : undefined;
  const values = isRecord(intent) ? intent.enum : undefined;
  return Array.isArray(values) && values.every((v) => typeof v === 'string') ? values : undefined;
}

function messageTexts(messages: unknown): string[] | undefined {
  if (!Array.isArray(messages) || messages.length === 0) return undefined;
  const texts = messages.map((m) => (isRecord(m) && typeof m.content === 'string' ? m.content : undefined));
  return texts.every((t) => t !== undefined) ? texts : undefined;
}

function inputTexts(input: unknown): string[] | undefined {
  if (typeof input === 'string') return [input];
  return Array.isArray(input) && input.length > 0 && input.every((t) => typeof t === 'string') ? input : undefined;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
