/**
 * One model call at a time, in arrival order, with cancellation of calls that still wait for
 * their turn: what both worker hosts (custom, llama-qlora) need around their engine.
 */
import { AbortedError } from '../core/errors';

export interface SerialCalls {
  /** Runs `call` after every earlier one has settled, unless `cancel(requestId)` came first. */
  run<T>(requestId: number, call: () => Promise<T>): Promise<T>;
  /** Drops a call that has not started yet (it rejects with `AbortedError`); a running one finishes. */
  cancel(requestId: number): void;
  /** Settles once every call queued so far has settled. */
  idle(): Promise<void>;
}

export function serialCalls(): SerialCalls {
  let queue: Promise<unknown> = Promise.resolve();
  const waiting = new Set<number>();
  const cancelled = new Set<number>();
  return {
    run(requestId, call) {
      waiting.add(requestId);
      const run = queue.then(() => {
        waiting.delete(requestId);
        if (cancelled.delete(requestId)) throw new AbortedError();
        return call();
      });
      queue = run.catch(() => undefined);
      return run;
    },
    cancel(requestId) {
      if (waiting.has(requestId)) cancelled.add(requestId);
    },
    async idle() {
      await queue;
    },
  };
}
