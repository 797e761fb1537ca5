/** Cancellation helpers: per-attempt timeouts layered on the caller's signal, and abortable waits. */
import { AbortedError, TimeoutError } from '../core/errors';

/**
 * Runs `run` with a signal that aborts when the caller's does or after `ms`. Rejects with
 * `TimeoutError(message)` on the timeout even if `run` ignores its signal, so nothing waits longer.
 */
export async function withTimeout<T>(
  caller: AbortSignal | undefined,
  ms: number,
  message: string,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const timeout = new TimeoutError(message);
  const timer = setTimeout(() => controller.abort(timeout), ms);
  const forward = () => controller.abort(new AbortedError());
  if (caller?.aborted) forward();
  caller?.addEventListener('abort', forward, { once: true });
  try {
    return await abortable(run(controller.signal), controller.signal);
  } catch (error) {
    if (controller.signal.reason === timeout) throw timeout;
    throw error;
  } finally {
    clearTimeout(timer);
    caller?.removeEventListener('abort', forward);
  }
}

/** Settles like `promise`, or rejects with the signal's reason (an `AbortedError` by default) once it aborts. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new AbortedError());
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Waits `ms`, or rejects with `AbortedError` as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return abortable(new Promise<void>((resolve) => setTimeout(resolve, ms)), signal);
}
