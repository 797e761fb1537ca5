/**
 * Cancellation, one way everywhere. Every adapter, engine and the pipeline turn an aborted signal
 * into an error through `abortReason`, so that a signal that timed out (`AbortSignal.timeout()`,
 * whose reason is a DOMException named `TimeoutError`) is a `TimeoutError` and any other abort an
 * `AbortedError`, whichever adapter was running. A reason that is already one of our errors (the
 * pipeline's own timeout, an adapter's "disposed") is passed on as it is.
 */
import { AbortedError, IntentError, TimeoutError } from './errors';

/** The typed error an aborted signal stands for (see the module's comment); the reason is kept as `cause`. */
export function abortReason(signal: AbortSignal): IntentError {
  const reason: unknown = signal.reason;
  if (IntentError.isInstance(reason)) return reason;
  if (isTimeoutReason(reason)) return new TimeoutError({ message: 'The call did not finish in time.', cause: reason });
  return new AbortedError({ cause: reason });
}

/** Throws `abortReason(signal)` when `signal` has aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortReason(signal);
}

/**
 * After an operation failed: the error of the first of `signals` that aborted (list the caller's
 * before the adapter's own), or undefined when none did and the failure is the operation's own.
 */
export function abortedBy(...signals: (AbortSignal | undefined)[]): IntentError | undefined {
  const aborted = signals.find((signal) => signal?.aborted);
  return aborted ? abortReason(aborted) : undefined;
}

/** `AbortSignal.timeout()`'s reason: a DOMException named TimeoutError (any Error so named, in older runtimes). */
function isTimeoutReason(reason: unknown): boolean {
  return typeof reason === 'object' && reason !== null && (reason as { name?: unknown }).name === 'TimeoutError';
}

/**
 * Settles like `promise`, or rejects with `abortReason(signal)` the moment `signal` aborts; then
 * `onAbort` runs (e.g. to cancel the work) and the late result is dropped.
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined, onAbort: () => void = () => undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const abort = () => {
      reject(abortReason(signal));
      onAbort();
    };
    if (signal.aborted) return abort();
    signal.addEventListener('abort', abort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', abort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', abort);
        // Passed on as it is: wrapping it here would hide its class from the caller.
        reject(error);
      },
    );
  });
}

/** Waits `ms`, or rejects as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return raceAbort(new Promise<void>((resolve) => setTimeout(resolve, ms)), signal);
}
