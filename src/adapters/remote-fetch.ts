/**
 * The `fetch` every remote adapter sends through (vLLM directly, Gemini as the SDK's
 * `httpOptions.fetch`), so that two rules hold for every request and every answer:
 *
 * - No redirect is ever followed (`redirect: 'error'`): a 307/308 from the server, or from
 *   anything in front of it, must not re-send the customer's text, and the API key with it, to
 *   another origin. A fetch that returns the 3xx anyway (an injected one) is refused the same way.
 * - An answer larger than `maxResponseBytes` is refused without being read to the end or parsed:
 *   `Content-Length` is checked first, then the body is read up to the cap and the rest cancelled.
 *
 * Both refusals are non-retryable `RemoteCallError`s: asking the same server again would get the
 * same answer.
 */
import { RemoteCallError } from '../core/errors';
import { concatTyped } from '../core/typed-arrays';

/** Largest answer a remote model may send: a label with scores is a few KiB, a model list less. */
export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;

export interface RemoteFetchOptions {
  /** Who is called, for messages: `vLLM`, `Gemini`. */
  service: string;
  /** Id of the adapter that calls, for the errors' `model`: `vllm`, `gemini`. */
  model?: string;
  /** The underlying fetch. Default: the global one, looked up at call time. */
  fetch?: typeof fetch;
  /** Default {@link DEFAULT_MAX_RESPONSE_BYTES}. */
  maxResponseBytes?: number;
}

/** Statuses whose Response may not carry a body. */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

export function remoteFetch(options: RemoteFetchOptions): typeof fetch {
  const { service, model } = options;
  const cap = checkCap(options.maxResponseBytes);
  // Called through a wrapper: a bare `window.fetch` called as a method of another object throws.
  const base = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  return async (input, init) => {
    const target = urlOf(input);
    let response: Response;
    try {
      response = await base(input, { ...init, redirect: 'error' });
    } catch (error) {
      if (isRedirectRefusal(error)) throw redirectError({ service, model, target, cause: error });
      throw error;
    }
    if (response.type === 'opaqueredirect' || (response.status >= 300 && response.status < 400)) {
      await response.body?.cancel().catch(() => undefined);
      throw redirectError({ service, model, target, status: response.status || undefined, location: response.headers.get('location') });
    }
    const body = await readCapped(response, cap, { service, model, target });
    const headers = new Headers(response.headers);
    // The bytes are already decoded and counted: these would describe the wire, not this body.
    headers.delete('content-length');
    headers.delete('content-encoding');
    return new Response(NULL_BODY_STATUSES.has(response.status) ? null : body, {
      status: response.status,
      statusText: response.statusText,
      headers,
    });
  };
}

/** Who was called, for the errors. */
interface Callee {
  service: string;
  model: string | undefined;
  /** The URL asked for. */
  target: string | undefined;
}

/** The whole body, or a `RemoteCallError` once it is known to exceed `cap` bytes. */
async function readCapped(response: Response, cap: number, callee: Callee): Promise<Uint8Array<ArrayBuffer>> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > cap) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge(callee, response.status, cap, `${declared} bytes announced`);
  }
  if (!response.body) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > cap) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(callee, response.status, cap, `more than ${cap} bytes sent`);
    }
    chunks.push(value);
  }
  return concatTyped(chunks, Uint8Array);
}

function tooLarge({ service, model, target }: Callee, status: number, cap: number, what: string): RemoteCallError {
  return new RemoteCallError({
    message: `${service} sent an answer larger than the ${formatBytes(cap)} allowed (${what}); it was not read. A label never needs that much: check the server.`,
    model,
    status,
    url: target,
    // The same server would send the same answer, whatever its status.
    retryable: false,
  });
}

function redirectError(options: Callee & { status?: number; location?: string | null; cause?: unknown }): RemoteCallError {
  const { service, model, target, status, location, cause } = options;
  const to = location ? ` to ${originOf(location, target)}` : '';
  const from = target ? ` at ${originOf(target)}` : '';
  return new RemoteCallError({
    message: `${service}${from} answered with a redirect${status ? ` (${status})` : ''}${to}. Redirects are never followed, so nothing was sent there: set the server's final URL.`,
    model,
    status,
    url: target,
    // Asking again would be redirected again.
    retryable: false,
    cause,
  });
}

/**
 * Node's fetch (undici) rejects a redirect under `redirect: 'error'` with `TypeError: fetch failed`
 * whose cause says `unexpected redirect`. Browsers give a bare `TypeError` that cannot be told
 * from a network failure; that one stays a network error.
 */
function isRedirectRefusal(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const cause: unknown = error.cause;
  const text = `${error.message} ${cause instanceof Error ? cause.message : ''}`;
  return /\bredirect\b/i.test(text);
}

function checkCap(value: number | undefined): number {
  if (value === undefined) return DEFAULT_MAX_RESPONSE_BYTES;
  if (!Number.isFinite(value) || value < 1) throw new RangeError(`maxResponseBytes must be a positive number, got ${value}`);
  return Math.floor(value);
}

function urlOf(input: RequestInfo | URL): string | undefined {
  if (typeof input === 'string') return input;
  if (input instanceof URL) return input.href;
  return typeof input === 'object' && 'url' in input ? input.url : undefined;
}

/** Only the origin goes into messages: a path or query may carry an id or a key. */
function originOf(url: string, base?: string): string {
  try {
    return new URL(url, base).origin;
  } catch {
    return 'another address';
  }
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}
