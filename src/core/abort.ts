/** Cancellation helpers shared by the adapters and the pipeline. */
import { AbortedError, IntentError, TimeoutError } from './errors';

/**
 * The typed error an aborted signal stands for: its reason when that is already one of ours, a
 * `TimeoutError` for `AbortSignal.timeout()` (whose reason is a DOMException named TimeoutError),
 * else `AbortedError`.
 */
export function abortReason(signal: AbortSignal): IntentError {
  const reason: unknown = signal.reason;
  if (reason instanceof IntentError) return reason;
  if (reason instanceof Error && reason.name === 'TimeoutError') return new TimeoutError('The call did not finish in time.');
  return new AbortedError();
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
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** Waits `ms`, or rejects as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return raceAbort(new Promise<void>((resolve) => setTimeout(resolve, ms)), signal);
}
