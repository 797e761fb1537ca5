/**
 * Gemini (Google's Gemini API) through the `@google/genai` SDK. One `generateContent` call per
 * message, constrained to answer exactly one of the labels or `out_of_scope`:
 * `responseMimeType: 'text/x.enum'` with `responseSchema: {type: STRING, enum: [...labels,
 * 'out_of_scope']}` makes the model's whole answer a bare label, and the instruction says when
 * `out_of_scope` is the answer.
 *
 * Where it sits: a remote fallback. The pipeline owns retries, backoff, cooldowns and timeouts, so
 * this adapter makes ONE attempt per `classify` (the SDK's own retries are switched off) and turns
 * every failure into a typed error the pipeline can act on (`RemoteCallError.retryable`,
 * `retryAfterMs`).
 *
 * Keys and proxies. The API key comes only from the `apiKey` option at run time: never from
 * `import.meta.env` (it would be baked into the bundle) and never from the SDK's own fallback to
 * the `GEMINI_API_KEY`/`GOOGLE_API_KEY` environment variables under Node (we always hand the SDK
 * an explicit key, the empty string when there is none). Google's advice is to keep keys out of
 * client code in production and to go through a proxy the bank runs: give `baseUrl` and no key,
 * and the requests go to `{baseUrl}/v1beta/models/{model}:generateContent` with no
 * `x-goog-api-key` header at all; the proxy adds its own credentials. (The SDK's browser build
 * refuses to send a request without a key header, so for a keyless proxy we hand it an empty
 * header and strip it in our `fetch` before the request leaves; the SDK then logs "API key should
 * be set" once per client, which is expected.)
 *
 * Privacy: the message goes out only through the privacy gate (./remote-gate.ts), which cannot be
 * switched off; `Prediction.masked` and `masked_categories` say what kind of data was replaced.
 * The SDK fetches through ./remote-fetch.ts: no redirect is followed (the key header must never
 * reach another origin) and answers over `maxResponseBytes` are refused unread.
 */
import { ApiError, GoogleGenAI, Type, type GenerateContentResponse } from '@google/genai';
import type { ClassifyOptions } from '../core/adapter';
import { GEMINI_DEFAULT_MODEL } from '../core/config';
import { abortedBy, throwIfAborted } from '../core/abort';
import { IntentError, ModelUnavailableError, RemoteCallError } from '../core/errors';
import { BANKING77_LABELS, OUT_OF_SCOPE } from '../core/labels';
import type { Device, ModelPrediction } from '../core/prediction';
import { AdapterLifecycle } from './adapter-lifecycle';
import { remoteFetch } from './remote-fetch';
import { gateOutgoing, type PrivacyConfig } from './remote-gate';
import { OUT_OF_SCOPE_INSTRUCTION, labelsWithOutOfScope } from './remote-labels';

export interface GeminiAdapterOptions {
  /** Gemini API key. Only for trying things out: in production use `baseUrl` with the bank's proxy. */
  apiKey?: string;
  /** Where to send requests instead of Google's endpoint, e.g. `https://bank.example/gemini`. */
  baseUrl?: string;
  /** Model id. Default {@link GEMINI_DEFAULT_MODEL}. */
  model?: string;
  /** The in-scope labels Gemini chooses from (`out_of_scope` is always offered too). Default the 77 Banking77 intents. */
  labels?: readonly string[];
  /**
   * The privacy guard's settings (a bank's own recognisers, its time budget). Masking itself
   * cannot be switched off: no setting lets raw text leave the device.
   */
  privacy?: PrivacyConfig;
  /** Largest answer accepted, in bytes; a larger one is refused unread. Default 1 MiB. */
  maxResponseBytes?: number;
  /** `confidence` when Gemini sends no log probability; see {@link GEMINI_UNSCORED_CONFIDENCE}. */
  unscoredConfidence?: number;
  /**
   * Thinking tokens the model may spend. Default 0 (off): choosing a label needs no reasoning and
   * thinking adds seconds and cost. `null` sends nothing (the model's default), for models that
   * cannot turn thinking off.
   */
  thinkingBudget?: number | null;
  /** Longest message sent, in characters, after masking; longer ones are cut (`truncated: true`). */
  maxChars?: number;
}

const MODEL_ID = 'gemini';
const GEMINI_API_URL = 'https://generativelanguage.googleapis.com';
/** The Gemini API version in the request path, pinned so that the path never changes under us. */
const GEMINI_API_VERSION = 'v1beta';
/** A customer message is a few sentences; anything longer is cut rather than paid for. */
const GEMINI_MAX_CHARS = 8_000;

/**
 * Gemini's confidence. Gemini answers one label and no ranking; on the Developer API log
 * probabilities are unreliable (often absent; asking for them with `responseLogprobs` is refused
 * by several models), so we never ask. When a candidate nevertheless carries `avgLogprobs` (the
 * mean log probability of the answer's tokens), `confidence = exp(avgLogprobs)`: the geometric
 * mean probability of those tokens, a rough and uncalibrated score. Otherwise `confidence` is this
 * neutral value, which says "no information" rather than "certain" (1) or "wrong" (0). Set the
 * `unscoredConfidence` option to Gemini's measured accuracy on your probe set to make it the best
 * calibrated constant (a constant equal to the accuracy has zero expected calibration error).
 * `top` holds the one label with that same score: we do not invent runners-up. An `out_of_scope`
 * answer has no in-scope label to score: its `top` is empty and, without `avgLogprobs`, its
 * confidence is 1 (the contract's "a remote model without scores").
 */
export const GEMINI_UNSCORED_CONFIDENCE = 0.5;

const INSTRUCTION = [
  'You classify messages that customers send to their bank. Answer with the one intent label that best describes the message below.',
  OUT_OF_SCOPE_INSTRUCTION,
].join(' ');
const API_KEY_HEADER = 'x-goog-api-key';

export class GeminiAdapter extends AdapterLifecycle {
  readonly id = MODEL_ID;
  private client: GoogleGenAI | undefined;
  /** Aborted by `dispose()`, so that calls in flight stop at once. */
  private readonly lifetime = new AbortController();
  private readonly model: string;
  /** The enum sent: the in-scope labels, then `out_of_scope`. */
  private readonly choices: readonly string[];
  private readonly choiceSet: ReadonlySet<string>;
  private readonly baseUrl: string;

  constructor(private readonly options: GeminiAdapterOptions = {}) {
    super();
    this.model = options.model ?? GEMINI_DEFAULT_MODEL;
    this.choices = labelsWithOutOfScope(options.labels ?? BANKING77_LABELS);
    this.choiceSet = new Set(this.choices);
    this.baseUrl = (options.baseUrl ?? GEMINI_API_URL).replace(/\/+$/, '');
  }

  /** The URL one classification is posted to (no key in it: the key travels in a header). */
  get endpoint(): string {
    return `${this.baseUrl}/${GEMINI_API_VERSION}/models/${this.model}:generateContent`;
  }

  protected override get title(): string {
    return 'The Gemini adapter';
  }

  /** What it may answer: its labels and `out_of_scope` (a benchmark probes it only on intents among them). */
  protected override modelLabels(): readonly string[] {
    return this.choices;
  }

  /**
   * Checks the configuration and creates the SDK client. Sends nothing: the first `classify` is
   * the first request (a check call would cost a request, and a proxy may only allow
   * `generateContent`).
   */
  protected runLoad(): Promise<Device> {
    const { apiKey, baseUrl } = this.options;
    if (!apiKey && !baseUrl) {
      return Promise.reject(new ModelUnavailableError({ message: 'Gemini needs an API key or the URL of your proxy', model: MODEL_ID }));
    }
    this.client = new GoogleGenAI({
      // Always explicit, so that the SDK never falls back to environment variables under Node
      // (GEMINI_API_KEY, GOOGLE_GEMINI_BASE_URL, GOOGLE_GENAI_USE_VERTEXAI).
      vertexai: false,
      apiKey: apiKey ?? '',
      apiVersion: GEMINI_API_VERSION,
      httpOptions: {
        baseUrl: this.baseUrl,
        // The SDK retries only when given retry options (v2.32: 5 attempts for 408/429/5xx when
        // set); one attempt, said out loud, in case a later version changes that default.
        retryOptions: { attempts: 1 },
        ...(apiKey ? {} : { headers: { [API_KEY_HEADER]: '' } }),
        fetch: remoteFetch({
          service: 'Gemini',
          model: MODEL_ID,
          fetch: apiKey ? undefined : fetchWithoutEmptyKey,
          maxResponseBytes: this.options.maxResponseBytes,
        }),
      },
    });
    return Promise.resolve('remote');
  }

  async classify(text: string, options: ClassifyOptions = {}): Promise<ModelPrediction> {
    const { signal } = options;
    throwIfAborted(signal);
    // Masked before anything else; fails closed (PrivacyGuardError) so that nothing is sent.
    const { text: outgoing, masked, categories } = gateOutgoing(text, 'Gemini', this.options.privacy);
    await this.whenLoaded(signal);
    const client = this.client;
    if (!client) throw new ModelUnavailableError({ message: this.reason ?? 'Gemini is not configured.', model: MODEL_ID });

    const maxChars = this.options.maxChars ?? GEMINI_MAX_CHARS;
    const truncated = outgoing.length > maxChars;
    const sent = truncated ? outgoing.slice(0, maxChars) : outgoing;

    const started = performance.now();
    const call = linkedAbort(signal, this.lifetime.signal);
    let response: GenerateContentResponse;
    try {
      const thinkingBudget = this.options.thinkingBudget === undefined ? 0 : this.options.thinkingBudget;
      response = await client.models.generateContent({
        model: this.model,
        contents: [{ role: 'user', parts: [{ text: INSTRUCTION }, { text: sent }] }],
        config: {
          responseMimeType: 'text/x.enum',
          responseSchema: { type: Type.STRING, enum: [...this.choices] },
          temperature: 0,
          ...(thinkingBudget === null ? {} : { thinkingConfig: { thinkingBudget } }),
          abortSignal: call.signal,
        },
      });
    } catch (error) {
      throw this.toIntentError(error, signal);
    } finally {
      call.dispose();
    }

    const intent = this.readLabel(response);
    const outOfScope = intent === OUT_OF_SCOPE;
    const unscored = outOfScope ? 1 : (this.options.unscoredConfidence ?? GEMINI_UNSCORED_CONFIDENCE);
    const confidence = readConfidence(response, unscored);
    return {
      intent,
      confidence,
      top: outOfScope ? [] : [{ intent, score: confidence }],
      model: MODEL_ID,
      device: 'remote',
      latency_ms: performance.now() - started,
      truncated,
      masked,
      masked_categories: categories,
    };
  }

  override dispose(): Promise<void> {
    this.client = undefined;
    // The reason is what calls in flight reject with (see `toIntentError`).
    this.lifetime.abort(this.disposedError());
    return super.dispose();
  }

  /** The answer's text, which must be exactly one label; anything else is a non-retryable error. */
  private readLabel(response: GenerateContentResponse): string {
    const candidate = response.candidates?.[0];
    if (!candidate) {
      const blocked = response.promptFeedback?.blockReason;
      const why = blocked ? `it blocked the message (blockReason ${blocked})` : 'it sent no candidate';
      throw this.notALabel(`Gemini gave no label: ${why}.`);
    }
    const finish = candidate.finishReason;
    if (finish && finish !== 'STOP') {
      throw this.notALabel(`Gemini gave no label: it stopped with finishReason ${finish}.`);
    }
    const label = response.text?.trim() ?? '';
    if (!this.choiceSet.has(label)) {
      const shown = label.length > 80 ? `${label.slice(0, 80)}…` : label;
      throw this.notALabel(`Gemini answered something that is not a label: "${shown}".`);
    }
    return label;
  }

  /** A 200 whose content is not one of the labels: asking again would get the same. */
  private notALabel(message: string): RemoteCallError {
    return new RemoteCallError({ message, model: MODEL_ID, status: 200, url: this.endpoint });
  }

  /**
   * What a failed `generateContent` rejects with: the caller's abort or timeout, as every adapter
   * maps it (core/abort.ts), then "disposed" (the lifetime signal's reason), then the failure itself.
   */
  private toIntentError(error: unknown, signal: AbortSignal | undefined): IntentError {
    const aborted = abortedBy(signal, this.lifetime.signal);
    if (aborted) return aborted;
    if (IntentError.isInstance(error)) return error;
    if (error instanceof ApiError) return fromApiError(error, this.endpoint);
    // fetch rejects with a TypeError when no HTTP answer came back at all: refused connection,
    // DNS failure, TLS error, CORS refusal in a browser. Worth another try later.
    if (error instanceof TypeError) {
      const cause = describeCause(error);
      return new RemoteCallError({
        message: `Could not reach Gemini at ${this.endpoint}${cause}. Check the URL and that it answers without a redirect (redirects are never followed).`,
        model: MODEL_ID,
        url: this.endpoint,
        retryable: true,
        cause: error,
      });
    }
    const detail = error instanceof Error ? error.message : String(error);
    return new RemoteCallError({ message: `The Gemini call failed: ${detail}`, model: MODEL_ID, url: this.endpoint, cause: error });
  }
}

/** Body of a Google API error: `{"error": {code, message, status, details}}`. */
interface GoogleErrorBody {
  code?: number;
  message?: string;
  status?: string;
  details?: { '@type'?: string; retryDelay?: string }[];
}

const HINTS: Record<number, string> = {
  400: 'The request was refused as invalid (a wrong API key answers 400 too).',
  401: 'Check the API key or the proxy credentials.',
  403: 'The key or the proxy is not allowed to call this model.',
  404: 'Check the model id and the proxy URL.',
  429: 'The quota is used up for now.',
};

/**
 * The SDK's `ApiError` has only `status` and `message`, and the message is the raw JSON body of
 * the answer, so the Google error (status name, text, RetryInfo) is parsed back out of it.
 */
function fromApiError(error: ApiError, url: string): RemoteCallError {
  const status = error.status;
  const body = parseGoogleError(error.message);
  const what = [body?.status, body?.message].filter(Boolean).join(': ') || error.message;
  const hint = HINTS[status] ?? (status >= 500 ? 'Gemini is failing or overloaded; try again later.' : '');
  return new RemoteCallError({
    message: `Gemini answered HTTP ${status} (${what}). ${hint}`.trim(),
    model: MODEL_ID,
    // Whether it is worth retrying follows from the status (see RemoteCallError).
    status,
    retryAfterMs: retryDelayMs(body),
    url,
    responseBody: error.message,
    cause: error,
  });
}

function parseGoogleError(message: string): GoogleErrorBody | undefined {
  try {
    const parsed: unknown = JSON.parse(message);
    if (typeof parsed === 'object' && parsed !== null && 'error' in parsed) {
      const inner = (parsed as { error: unknown }).error;
      if (typeof inner === 'object' && inner !== null) return inner as GoogleErrorBody;
    }
  } catch {
    // Not JSON (a proxy's HTML error page): the raw message is all there is.
  }
  return undefined;
}

/** `details[] {@type: type.googleapis.com/google.rpc.RetryInfo, retryDelay: "58s"}` → 58000. */
function retryDelayMs(body: GoogleErrorBody | undefined): number | undefined {
  const info = body?.details?.find((detail) => detail['@type']?.endsWith('google.rpc.RetryInfo'));
  const match = /^(\d+(?:\.\d+)?)s$/.exec(info?.retryDelay?.trim() ?? '');
  return match ? Math.round(Number(match[1]) * 1000) : undefined;
}

function readConfidence(response: GenerateContentResponse, unscored: number): number {
  const avg = response.candidates?.[0]?.avgLogprobs;
  if (typeof avg === 'number' && Number.isFinite(avg)) return Math.min(1, Math.exp(avg));
  return unscored;
}

/** ` (ECONNREFUSED)`-style detail from undici's `fetch failed` cause; empty in browsers. */
function describeCause(error: TypeError): string {
  const cause: unknown = error.cause;
  if (typeof cause === 'object' && cause !== null) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string') return ` (${code})`;
  }
  return error.message ? ` (${error.message})` : '';
}

/** For a keyless proxy: drops the empty key header the SDK was handed, so none is sent. */
function fetchWithoutEmptyKey(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const headers = new Headers(init?.headers);
  if (headers.get(API_KEY_HEADER) === '') headers.delete(API_KEY_HEADER);
  return globalThis.fetch(input, { ...init, headers });
}

/** One signal that aborts when any of `signals` does; `dispose` unhooks it. */
function linkedAbort(...signals: (AbortSignal | undefined)[]): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const abort = () => controller.abort();
  const present = signals.filter((signal): signal is AbortSignal => signal !== undefined);
  for (const signal of present) {
    if (signal.aborted) controller.abort();
    else signal.addEventListener('abort', abort, { once: true });
  }
  return { signal: controller.signal, dispose: () => present.forEach((signal) => signal.removeEventListener('abort', abort)) };
}
