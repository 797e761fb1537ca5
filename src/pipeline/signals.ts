/** Cancellation helpers: per-attempt timeouts layered on the caller's signal. */
import { abortReason, raceAbort } from '../core/abort';
import { TimeoutError } from '../core/errors';

/**
 * Runs `run` with a signal that aborts when the caller's does or after `ms`. Rejects with
 * `TimeoutError(message)` on the timeout even if `run` ignores its signal, so nothing waits longer.
 * The caller's abort is mapped as everywhere (core/abort.ts): `AbortedError`, or `TimeoutError`
 * when the caller's own signal timed out.
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
  const forward = () => {
    if (caller) controller.abort(abortReason(caller));
  };
  if (caller?.aborted) forward();
  caller?.addEventListener('abort', forward, { once: true });
  try {
    return await raceAbort(run(controller.signal), controller.signal);
  } catch (error) {
    if (controller.signal.reason === timeout) throw timeout;
    throw error;
  } finally {
    clearTimeout(timer);
    caller?.removeEventListener('abort', forward);
  }
}
