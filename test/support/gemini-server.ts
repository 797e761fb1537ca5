/**
 * A stand-in for the Gemini API on 127.0.0.1, for tests that run the real `@google/genai` SDK over
 * real HTTP. It reproduces what the adapter relies on, as the Gemini API does it:
 *
 * - `POST /v1beta/models/{model}:generateContent` (the path the SDK builds from `baseUrl` and its
 *   `v1beta` API version), the key in the `x-goog-api-key` header or the `key` query parameter;
 * - answers `{candidates: [{content: {parts: [{text}], role: 'model'}, finishReason: 'STOP',
 *   index: 0}], usageMetadata, modelVersion, responseId}`;
 * - errors as `{"error": {code, message, status, details}}`: a wrong key is 400 INVALID_ARGUMENT
 *   (reason API_KEY_INVALID), no key 403 PERMISSION_DENIED, quota 429 RESOURCE_EXHAUSTED with a
 *   `google.rpc.RetryInfo` detail (`retryDelay: "58s"`), 500 INTERNAL, 503 UNAVAILABLE.
 *
 * It is a test double of a remote service, not a classifier: its label comes from the customer's
 * message (the last text part; the parts before it are instructions): the label a test fixes, else
 * `out_of_scope` when the enum offers it and the message has no banking word
 * (test/support/not-banking.ts), else a keyword, else the first label of the request's enum. Every
 * request is recorded (path, query, headers, parsed and raw body) so tests assert on what was sent.
 * Behaviour is switched per test with `set()` (errors, useless answers, a delay, a redirect to
 * another server, an answer too large to read), and `reset()` goes back to plain answers.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { outOfScopeAnswer } from './not-banking';
import { streamHuge, type StreamRecord } from './vllm-server';

export type GeminiFailure = 'invalid-argument' | 'permission-denied' | 'resource-exhausted' | 'internal' | 'unavailable';
/** Answers with HTTP 200 that carry no usable label. */
export type GeminiNonsense = 'not-a-label' | 'no-candidates' | 'prompt-blocked' | 'safety';

export interface GeminiBehaviour {
  /** Answer every request with this error. */
  failure?: GeminiFailure;
  /** Answer every request with this useless 200. */
  nonsense?: GeminiNonsense;
  /** Answer this label whatever the text says. */
  label?: string;
  /** Wait this long before answering (the wait ends early if the client goes away). */
  delayMs?: number;
  /** Put `avgLogprobs` on the candidate. */
  avgLogprobs?: number;
  /** Answer every request with this redirect, as a proxy in front of the API might. */
  redirect?: { status: 301 | 302 | 303 | 307 | 308; location: string };
  /** Answer every request with a 200 of this many bytes (not JSON), streamed as the client reads. */
  huge?: { bytes: number; contentLength: boolean };
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** The body as sent, to check that some text never left the client. */
  rawBody: string;
  /** The parsed JSON body, or undefined when it was not JSON. */
  body: GenerateContentBody | undefined;
}

/** The parts of a generateContent request body that the stand-in reads. */
export interface GenerateContentBody {
  contents?: { role?: string; parts?: { text?: string }[] }[];
  generationConfig?: {
    temperature?: number;
    responseMimeType?: string;
    responseSchema?: { type?: string; enum?: string[] };
    thinkingConfig?: { thinkingBudget?: number };
  };
}

export interface GeminiStandIn {
  /** Base URL to give the SDK (`httpOptions.baseUrl`), e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Every huge answer sent (`set({huge})`): how far the client read. */
  readonly streams: StreamRecord[];
  /** The `responseSchema.enum` of each request, in order: what the client let the model answer. */
  receivedEnums(): (string[] | undefined)[];
  set(behaviour: GeminiBehaviour): void;
  /** Plain answers again, and forgets the recorded requests. */
  reset(): void;
  close(): Promise<void>;
}

export interface GeminiStandInOptions {
  /** The key the server accepts; null accepts requests without any key (a bank's proxy). */
  apiKey: string | null;
  /** Port on 127.0.0.1; default 0, a free one the system picks. */
  port?: number;
}

/** Keyword → label, first match wins. Only enough to tell a few messages apart in tests. */
const KEYWORDS: [RegExp, string][] = [
  [/\b(lost|stolen)\b/i, 'lost_or_stolen_card'],
  [/\bexchange rate\b/i, 'exchange_rate'],
  [/\bpin\b/i, 'change_pin'],
  [/\brefund\b/i, 'request_refund'],
  [/\bcard\b.*\barrive|\barrive.*\bcard\b/i, 'card_arrival'],
];

const PATH = /^\/v1beta\/models\/([^/:]+):generateContent$/;

const FAILURES: Record<GeminiFailure, { code: number; status: string; message: string; details?: unknown[] }> = {
  'invalid-argument': { code: 400, status: 'INVALID_ARGUMENT', message: 'Request contains an invalid argument.' },
  'permission-denied': {
    code: 403,
    status: 'PERMISSION_DENIED',
    message: 'Your API key was reported as leaked. Please use another API key.',
  },
  'resource-exhausted': {
    code: 429,
    status: 'RESOURCE_EXHAUSTED',
    message: 'You exceeded your current quota, please check your plan and billing details. Please retry in 58.123456789s.',
    details: [
      {
        '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
        violations: [
          {
            quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests',
            quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier',
          },
        ],
      },
      {
        '@type': 'type.googleapis.com/google.rpc.Help',
        links: [{ description: 'Learn more about Gemini API quotas', url: 'https://ai.google.dev/gemini-api/docs/rate-limits' }],
      },
      { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '58s' },
    ],
  },
  internal: {
    code: 500,
    status: 'INTERNAL',
    message: 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
  },
  unavailable: { code: 503, status: 'UNAVAILABLE', message: 'The model is overloaded. Please try again later.' },
};

export async function startGeminiServer(options: GeminiStandInOptions): Promise<GeminiStandIn> {
  const requests: RecordedRequest[] = [];
  const streams: StreamRecord[] = [];
  let behaviour: GeminiBehaviour = {};

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const body = parseJson(rawBody);
      requests.push({
        method: req.method ?? '',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
        rawBody,
        body,
      });
      const current = behaviour;
      const answer = () => {
        if (current.redirect) {
          res.writeHead(current.redirect.status, { location: current.redirect.location, 'content-type': 'text/html; charset=UTF-8' });
          return void res.end();
        }
        if (current.huge) return void streamHuge(res, current.huge, {}, streams);
        respond(res, current, req.method ?? '', url, req.headers, body, options.apiKey);
      };
      if (!current.delayMs) return answer();
      const timer = setTimeout(answer, current.delayMs);
      res.on('close', () => clearTimeout(timer));
    });
  });

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    streams,
    receivedEnums: () => requests.map((request) => request.body?.generationConfig?.responseSchema?.enum),
    set: (next) => {
      behaviour = { ...next };
    },
    reset: () => {
      behaviour = {};
      requests.length = 0;
      streams.length = 0;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function respond(
  res: ServerResponse,
  behaviour: GeminiBehaviour,
  method: string,
  url: URL,
  headers: IncomingHttpHeaders,
  body: GenerateContentBody | undefined,
  apiKey: string | null,
): void {
  const route = PATH.exec(url.pathname);
  if (method !== 'POST' || !route) {
    return sendError(res, 404, 'NOT_FOUND', `The requested URL ${url.pathname} was not found on this server.`);
  }
  if (apiKey !== null) {
    const given = headerValue(headers['x-goog-api-key']) ?? url.searchParams.get('key') ?? undefined;
    if (!given) {
      return sendError(
        res,
        403,
        'PERMISSION_DENIED',
        `Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.`,
      );
    }
    if (given !== apiKey) {
      return sendError(res, 400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [
        { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com' },
      ]);
    }
  }
  if (!body) return sendError(res, 400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.');
  if (behaviour.failure) {
    const failure = FAILURES[behaviour.failure];
    return sendError(res, failure.code, failure.status, failure.message, failure.details);
  }

  const model = decodeURIComponent(route[1]!);
  const texts = (body.contents ?? []).flatMap((content) => content.parts ?? []).map((part) => part.text ?? '');
  const text = texts.join('\n');
  const said = texts[texts.length - 1] ?? '';
  const choices = body.generationConfig?.responseSchema?.enum ?? [];
  const usageMetadata = {
    promptTokenCount: Math.ceil(text.length / 4),
    candidatesTokenCount: 3,
    totalTokenCount: Math.ceil(text.length / 4) + 3,
  };
  const envelope = { usageMetadata, modelVersion: model, responseId: `stand-in-${Date.now().toString(36)}` };

  switch (behaviour.nonsense) {
    case 'not-a-label':
      return sendJson(res, 200, { candidates: [candidate('I think this is about a card.', 'STOP')], ...envelope });
    case 'no-candidates':
      return sendJson(res, 200, { ...envelope, candidates: [] });
    case 'prompt-blocked':
      return sendJson(res, 200, { promptFeedback: { blockReason: 'SAFETY', safetyRatings: [] }, ...envelope });
    case 'safety':
      return sendJson(res, 200, {
        candidates: [
          { finishReason: 'SAFETY', index: 0, safetyRatings: [{ category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'HIGH' }] },
        ],
        ...envelope,
      });
    default:
      break;
  }
  const keyword = KEYWORDS.find(([pattern, label]) => pattern.test(said) && choices.includes(label))?.[1];
  const label = behaviour.label ?? outOfScopeAnswer(said, choices) ?? keyword ?? choices[0] ?? 'card_arrival';
  const answer = candidate(label, 'STOP');
  if (behaviour.avgLogprobs !== undefined) answer.avgLogprobs = behaviour.avgLogprobs;
  sendJson(res, 200, { candidates: [answer], ...envelope });
}

function candidate(text: string, finishReason: string): { content: unknown; finishReason: string; index: number; avgLogprobs?: number } {
  return { content: { parts: [{ text }], role: 'model' }, finishReason, index: 0 };
}

function sendError(res: ServerResponse, code: number, status: string, message: string, details?: unknown[]): void {
  sendJson(res, code, { error: { code, message, status, ...(details ? { details } : {}) } });
}

function sendJson(res: ServerResponse, code: number, value: unknown): void {
  // Google's front end answers errors and results alike as `application/json; charset=UTF-8`.
  res.writeHead(code, { 'content-type': 'application/json; charset=UTF-8' });
  res.end(JSON.stringify(value));
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function parseJson(text: string): GenerateContentBody | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as GenerateContentBody) : undefined;
  } catch {
    return undefined;
  }
}
