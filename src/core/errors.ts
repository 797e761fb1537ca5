/**
 * Typed errors. Callers (the pipeline's fallback, the UI, the CLI) decide what to do from the
 * class and its fields, never by parsing messages. Messages tell the user what to do next.
 */
export type ErrorCode =
  'invalid_input' | 'model_unavailable' | 'model_file' | 'remote_call' | 'timeout' | 'aborted' | 'all_failed' | 'privacy_guard';

export abstract class IntentError extends Error {
  abstract readonly code: ErrorCode;
  /** Whether trying the same call again may succeed. */
  readonly retryable: boolean = false;
}

/** The text cannot be classified as given (empty, not a string, absurdly large). No model was called. */
export class InvalidInputError extends IntentError {
  readonly code = 'invalid_input';
  constructor(message: string) {
    super(message);
    this.name = 'InvalidInputError';
  }
}

/** The adapter cannot run here (no WebGPU, disposed, not configured). */
export class ModelUnavailableError extends IntentError {
  readonly code = 'model_unavailable';
  constructor(
    message: string,
    readonly model: string,
  ) {
    super(message);
    this.name = 'ModelUnavailableError';
  }
}

/** A model file is missing, unreadable or corrupt. `file` names it so the user can fix it. */
export class ModelFileError extends IntentError {
  readonly code = 'model_file';
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
    this.name = 'ModelFileError';
  }
}

/** A remote server answered with an error or with something that is not a valid answer. */
export class RemoteCallError extends IntentError {
  readonly code = 'remote_call';
  override readonly retryable: boolean;
  constructor(
    message: string,
    readonly status: number | undefined,
    retryable: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'RemoteCallError';
    this.retryable = retryable;
  }
}

/** Personal data could not be masked (the guard threw or ran out of time): the text stayed on the device. */
export class PrivacyGuardError extends IntentError {
  readonly code = 'privacy_guard';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PrivacyGuardError';
  }
}

export class TimeoutError extends IntentError {
  readonly code = 'timeout';
  override readonly retryable = true;
  constructor(message: string) {
    super(message);
    this.name = 'TimeoutError';
  }
}

export class AbortedError extends IntentError {
  readonly code = 'aborted';
  constructor(message = 'The request was cancelled.') {
    super(message);
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
  readonly code = 'all_failed';
  constructor(readonly attempts: AttemptFailure[]) {
    super(`No model could answer: ${attempts.map((a) => `${a.model}: ${a.message}`).join('; ')}`);
    this.name = 'AllAdaptersFailedError';
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
  attempts?: AttemptFailure[];
}

export function toWireError(error: unknown): WireError {
  if (error instanceof IntentError) {
    const wire: WireError = { code: error.code, name: error.name, message: error.message };
    if (error instanceof ModelFileError) wire.file = error.file;
    if (error instanceof ModelUnavailableError) wire.model = error.model;
    if (error instanceof RemoteCallError) {
      wire.status = error.status;
      wire.retryable = error.retryable;
      wire.retryAfterMs = error.retryAfterMs;
    }
    if (error instanceof AllAdaptersFailedError) wire.attempts = error.attempts;
    return wire;
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'internal', name: error instanceof Error ? error.name : 'Error', message };
}

export function fromWireError(wire: WireError): Error {
  switch (wire.code) {
    case 'invalid_input':
      return new InvalidInputError(wire.message);
    case 'model_unavailable':
      return new ModelUnavailableError(wire.message, wire.model ?? 'unknown');
    case 'model_file':
      return new ModelFileError(wire.message, wire.file ?? 'unknown');
    case 'remote_call':
      return new RemoteCallError(wire.message, wire.status, wire.retryable ?? false, wire.retryAfterMs);
    case 'timeout':
      return new TimeoutError(wire.message);
    case 'aborted':
      return new AbortedError(wire.message);
    case 'all_failed':
      return new AllAdaptersFailedError(wire.attempts ?? []);
    case 'privacy_guard':
      return new PrivacyGuardError(wire.message);
    default: {
      const error = new Error(wire.message);
      error.name = wire.name;
      return error;
    }
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError();
}
