/**
 * Typed errors. Callers (the pipeline's fallback, the UI, the CLI) decide what to do from the
 * class and its fields, never by parsing messages. Messages tell the user what to do next.
 *
 * Modelled on the Vercel AI SDK's `APICallError`: each class takes one object of named options,
 * keeps the error it wraps as the standard `cause` (ES2022), derives what it can from its own
 * facts (`RemoteCallError.retryable` from the HTTP status), and has a static `isInstance` guard
 * that also recognises an instance made by another copy of this module (the page's bundle and the
 * widget's, say), where `instanceof` fails. Across a worker boundary, where structured clone drops
 * classes, `toWireError`/`fromWireError` carry the class, its fields and the cause chain.
 *
 * ```ts
 * throw new RemoteCallError({ message: 'vLLM answered 503: overloaded', model: 'vllm', status: 503, retryAfterMs: 7000, cause });
 * if (RemoteCallError.isInstance(error) && error.retryable) retryLater(error.retryAfterMs);
 * ```
 */
export type ErrorCode =
  | 'invalid_input'
  | 'config'
  | 'model_unavailable'
  | 'model_file'
  | 'model_format'
  | 'remote_call'
  | 'timeout'
  | 'aborted'
  | 'all_failed'
  | 'privacy_guard'
  | 'training';

/** What every error takes: the message and, when it wraps another error, that error. */
export interface IntentErrorOptions {
  message: string;
  /** The error this one wraps (a fetch failure, a parse error, an SDK error): kept as `cause`. */
  cause?: unknown;
}

/** Errors whose only fact is their message also take the message alone: `new InvalidInputError('…')`. */
export type MessageOptions = string | IntentErrorOptions;

/**
 * Where an instance lists the `kind` of its class and of every class above it: a registry symbol,
 * the same in every copy of this module (class names themselves may be minified differently).
 */
const KINDS = Symbol.for('banking-intent.error.kinds');

/** The `kind`s declared along the class chain from `target` up to `IntentError`. */
function kindsOf(target: unknown): string[] {
  const kinds: string[] = [];
  for (let c = target; c && c !== Error; c = Object.getPrototypeOf(c)) {
    if (Object.hasOwn(c as object, 'kind')) kinds.push((c as { kind: string }).kind);
  }
  return kinds;
}

function optionsOf(options: MessageOptions): IntentErrorOptions {
  return typeof options === 'string' ? { message: options } : options;
}

/** Statuses where the same request may succeed later (as in the Vercel AI SDK's `APICallError`). */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

export abstract class IntentError extends Error {
  /** What `isInstance` looks for; each subclass declares its own. */
  static readonly kind: string = 'IntentError';
  private readonly [KINDS]: readonly string[];
  abstract readonly code: ErrorCode;
  /** Whether trying the same call again may succeed. */
  readonly retryable: boolean = false;

  constructor(options: IntentErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this[KINDS] = kindsOf(new.target);
  }

  /**
   * Whether `value` is an instance of this class (or of a subclass), made by this copy of the
   * module or another. A subclass that declares no `kind` of its own is checked with `instanceof`.
   */
  static isInstance<T>(this: abstract new (...args: never[]) => T, value: unknown): value is T {
    if (!Object.hasOwn(this, 'kind')) return value instanceof this;
    const kinds = typeof value === 'object' && value !== null ? (value as { [KINDS]?: unknown })[KINDS] : undefined;
    return Array.isArray(kinds) && kinds.includes((this as unknown as { kind: string }).kind);
  }
}

/** The text cannot be classified as given (empty, not a string, absurdly large). No model was called. */
export class InvalidInputError extends IntentError {
  static override readonly kind: string = 'InvalidInputError';
  readonly code = 'invalid_input';
  constructor(options: MessageOptions) {
    super(optionsOf(options));
    this.name = 'InvalidInputError';
  }
}

/** A setting a developer or an operator wrote is not valid (a router policy, a recogniser, the runtime). */
export class ConfigError extends IntentError {
  static override readonly kind: string = 'ConfigError';
  readonly code = 'config';
  constructor(options: MessageOptions) {
    super(optionsOf(options));
    this.name = 'ConfigError';
  }
}

/** The adapter cannot run here (no WebGPU, disposed, not configured). */
export class ModelUnavailableError extends IntentError {
  static override readonly kind: string = 'ModelUnavailableError';
  readonly code = 'model_unavailable';
  /** Id of the adapter, e.g. `llama-qlora`. */
  readonly model: string;
  constructor(options: IntentErrorOptions & { model: string }) {
    super(options);
    this.name = 'ModelUnavailableError';
    this.model = options.model;
  }
}

/** A model file is missing, unreadable or corrupt. `file` names it so the user can fix it. */
export class ModelFileError extends IntentError {
  static override readonly kind: string = 'ModelFileError';
  readonly code = 'model_file';
  readonly file: string;
  constructor(options: IntentErrorOptions & { file: string }) {
    super(options);
    this.name = 'ModelFileError';
    this.file = options.file;
  }
}

/**
 * Model data that is not what its format requires: a config with a wrong field, a weight of the
 * wrong shape, a tokenizer file of another kind. Thrown by the code that parses a format, which
 * may not know the file; an engine that loads a file wraps it in a `ModelFileError` naming it.
 */
export class ModelFormatError extends IntentError {
  static override readonly kind: string = 'ModelFormatError';
  readonly code = 'model_format';
  /** The file, when the code that found the problem knows it. */
  readonly file: string | undefined;
  constructor(options: string | (IntentErrorOptions & { file?: string })) {
    super(optionsOf(options));
    this.name = 'ModelFormatError';
    this.file = typeof options === 'string' ? undefined : options.file;
  }
}

/**
 * A training run cannot go on: its data (a CSV without the columns it needs, a label the tokenizer
 * cannot spell), a member process that failed, nothing left to train. `file` names the data file
 * at fault, when there is one.
 */
export class TrainingError extends IntentError {
  static override readonly kind: string = 'TrainingError';
  readonly code = 'training';
  readonly file: string | undefined;
  constructor(options: string | (IntentErrorOptions & { file?: string })) {
    super(optionsOf(options));
    this.name = 'TrainingError';
    this.file = typeof options === 'string' ? undefined : options.file;
  }
}

/** What a `RemoteCallError` is made from. */
export interface RemoteCallErrorOptions extends IntentErrorOptions {
  /** Id of the adapter that made the call, e.g. `vllm`. */
  model?: string;
  /** The HTTP status; undefined when no HTTP answer came back. */
  status?: number;
  /** How long the server asked us to wait (`Retry-After`, Google's `RetryInfo`), in milliseconds. */
  retryAfterMs?: number;
  /** The URL called (never one with credentials: config refuses those). */
  url?: string;
  /** The body of an error answer, as received (at most the remote fetch's size cap). */
  responseBody?: string;
  /**
   * Only where the status alone does not say: `true` for a network failure (no answer at all, worth
   * another try), `false` for an answer that would be the same again (a redirect, an answer too
   * large, a 200 that is not a label). Default: derived from `status` (408, 409, 429, >= 500).
   */
  retryable?: boolean;
}

/** A remote server answered with an error or with something that is not a valid answer. */
export class RemoteCallError extends IntentError {
  static override readonly kind: string = 'RemoteCallError';
  readonly code = 'remote_call';
  override readonly retryable: boolean;
  readonly model: string | undefined;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly url: string | undefined;
  readonly responseBody: string | undefined;
  constructor(options: RemoteCallErrorOptions) {
    super(options);
    this.name = 'RemoteCallError';
    this.model = options.model;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
    this.url = options.url;
    this.responseBody = options.responseBody;
    this.retryable = options.retryable ?? (options.status !== undefined && isRetryableStatus(options.status));
  }
}

/** Personal data could not be masked (the guard threw or ran out of time): the text stayed on the device. */
export class PrivacyGuardError extends IntentError {
  static override readonly kind: string = 'PrivacyGuardError';
  readonly code = 'privacy_guard';
  constructor(options: MessageOptions) {
    super(optionsOf(options));
    this.name = 'PrivacyGuardError';
  }
}

/** The call did not finish in time: a timed-out signal (`AbortSignal.timeout`) or the pipeline's own timeout. */
export class TimeoutError extends IntentError {
  static override readonly kind: string = 'TimeoutError';
  readonly code = 'timeout';
  override readonly retryable = true;
  constructor(options: MessageOptions) {
    super(optionsOf(options));
    this.name = 'TimeoutError';
  }
}

/** The caller cancelled (its signal aborted for a reason other than a timeout). */
export class AbortedError extends IntentError {
  static override readonly kind: string = 'AbortedError';
  readonly code = 'aborted';
  constructor(options: string | Partial<IntentErrorOptions> = {}) {
    const { message = 'The request was cancelled.', cause } = typeof options === 'string' ? { message: options } : options;
    super({ message, cause });
    this.name = 'AbortedError';
  }
}

/** One adapter's failure inside a fallback chain. */
export interface AttemptFailure {
  model: string;
  code: ErrorCode | 'internal' | 'cooling_down';
  message: string;
}

/** Every adapter in the chain failed or was cooling down. `attempts` says what happened to each. */
export class AllAdaptersFailedError extends IntentError {
  static override readonly kind: string = 'AllAdaptersFailedError';
  readonly code = 'all_failed';
  readonly attempts: AttemptFailure[];
  /** The message defaults to one naming each attempt; `cause` may hold the last adapter's error. */
  constructor(options: { attempts: AttemptFailure[]; message?: string; cause?: unknown }) {
    const { attempts } = options;
    super({
      message: options.message ?? `No model could answer: ${attempts.map((a) => `${a.model}: ${a.message}`).join('; ')}`,
      cause: options.cause,
    });
    this.name = 'AllAdaptersFailedError';
    this.attempts = attempts;
  }
}

/** Plain-data form of an error, for crossing a worker boundary (structured clone drops classes). */
export interface WireError {
  code: ErrorCode | 'internal';
  name: string;
  message: string;
  file?: string;
  model?: string;
  status?: number;
  retryable?: boolean;
  retryAfterMs?: number;
  url?: string;
  responseBody?: string;
  attempts?: AttemptFailure[];
  /** The `cause`, in the same form (a few levels deep; anything that is not an error becomes its text). */
  cause?: WireError;
}

/** How many causes deep `toWireError` goes: enough for "model file ← onnxruntime ← its reason". */
const MAX_WIRE_CAUSES = 4;

export function toWireError(error: unknown): WireError {
  return wire(error, MAX_WIRE_CAUSES);
}

function wire(error: unknown, causes: number): WireError {
  let result: WireError;
  if (IntentError.isInstance(error)) {
    result = { code: error.code, name: error.name, message: error.message };
    if (ModelFileError.isInstance(error) || ModelFormatError.isInstance(error) || TrainingError.isInstance(error))
      setDefined(result, 'file', error.file);
    if (ModelUnavailableError.isInstance(error)) result.model = error.model;
    if (RemoteCallError.isInstance(error)) {
      result.status = error.status;
      result.retryable = error.retryable;
      result.retryAfterMs = error.retryAfterMs;
      setDefined(result, 'model', error.model);
      setDefined(result, 'url', error.url);
      setDefined(result, 'responseBody', error.responseBody);
    }
    if (AllAdaptersFailedError.isInstance(error)) result.attempts = error.attempts;
  } else {
    const message = error instanceof Error ? error.message : String(error);
    result = { code: 'internal', name: error instanceof Error ? error.name : 'Error', message };
  }
  const cause: unknown = error instanceof Error ? error.cause : undefined;
  if (cause !== undefined && causes > 0) result.cause = wire(cause, causes - 1);
  return result;
}

function setDefined<K extends 'file' | 'model' | 'url' | 'responseBody'>(target: WireError, key: K, value: WireError[K] | undefined): void {
  if (value !== undefined) target[key] = value;
}

/** The error `wire` stands for: an instance of the original class with its fields and its cause. */
export function fromWireError(wire: WireError): Error {
  const cause = wire.cause === undefined ? undefined : fromWireError(wire.cause);
  const { message } = wire;
  switch (wire.code) {
    case 'invalid_input':
      return new InvalidInputError({ message, cause });
    case 'config':
      return new ConfigError({ message, cause });
    case 'model_unavailable':
      return new ModelUnavailableError({ message, model: wire.model ?? 'unknown', cause });
    case 'model_file':
      return new ModelFileError({ message, file: wire.file ?? 'unknown', cause });
    case 'model_format':
      return new ModelFormatError({ message, file: wire.file, cause });
    case 'remote_call':
      return new RemoteCallError({
        message,
        model: wire.model,
        status: wire.status,
        retryAfterMs: wire.retryAfterMs,
        url: wire.url,
        responseBody: wire.responseBody,
        retryable: wire.retryable ?? false,
        cause,
      });
    case 'timeout':
      return new TimeoutError({ message, cause });
    case 'aborted':
      return new AbortedError({ message, cause });
    case 'all_failed':
      return new AllAdaptersFailedError({ attempts: wire.attempts ?? [], message, cause });
    case 'privacy_guard':
      return new PrivacyGuardError({ message, cause });
    case 'training':
      return new TrainingError({ message, file: wire.file, cause });
    default: {
      // Not one of ours (a TypeError in the worker, an onnxruntime failure): rebuilt as what it
      // was, with its name, so that nothing claims to know more about it than the worker did.
      const error = new Error(message, cause === undefined ? undefined : { cause });
      error.name = wire.name;
      return error;
    }
  }
}
