/**
 * A circuit breaker per adapter, so that an outage costs little and its end is noticed soon:
 *
 * - closed: requests go through. `allowedFails` failures within `failureWindowMs` open it.
 * - open: requests skip the adapter until the probe interval has passed (`probeIntervalMs` at
 *   first). A server's own pause (Retry-After, RetryInfo) opens it too, for that long.
 * - half-open: once the interval has passed, exactly one request (the probe) goes through while
 *   the others keep skipping. Its success closes the circuit; its failure opens it again with the
 *   interval doubled, up to `maxProbeIntervalMs`. A probe that ends without a verdict (the caller
 *   aborted, the privacy guard held the text back) lets the next request probe instead.
 */
import type { RouterPolicy } from '../core/config';

/** Whether a request may use the adapter now. */
export type Admission =
  | { admitted: true; /** This request is the half-open probe: one attempt, no retries. */ probe: boolean }
  | { admitted: false; /** Milliseconds until a probe is due; 0 while a probe is in flight. */ waitMs: number; probing: boolean };

interface Open {
  /** When the next probe may go. */
  until: number;
  /** The wait that ends at `until`; a failed probe doubles it. */
  intervalMs: number;
  /** Start of the probe in flight, if one is. */
  probeStartedAt?: number;
}

export class CircuitBreakers {
  private readonly failures = new Map<string, number[]>();
  private readonly open = new Map<string, Open>();

  constructor(
    private readonly policy: RouterPolicy,
    private readonly now: () => number,
  ) {}

  /**
   * Milliseconds until `id` is tried again; 0 when it may be used now. While a probe is in flight
   * it is the time the probe may still take (at least 1), so that other users (a benchmark round)
   * leave it alone meanwhile.
   */
  remaining(id: string): number {
    const state = this.open.get(id);
    if (!state) return 0;
    const now = this.now();
    if (state.probeStartedAt !== undefined) return Math.max(1, state.probeStartedAt + this.policy.timeoutMs - now);
    return Math.max(0, state.until - now);
  }

  /** Asks to use `id` now; a half-open circuit admits one request at a time, as its probe. */
  admit(id: string): Admission {
    const state = this.open.get(id);
    if (!state) return { admitted: true, probe: false };
    const now = this.now();
    if (state.probeStartedAt !== undefined) return { admitted: false, waitMs: 0, probing: true };
    if (now < state.until) return { admitted: false, waitMs: state.until - now, probing: false };
    state.probeStartedAt = now;
    return { admitted: true, probe: true };
  }

  recordSuccess(id: string): void {
    this.reset(id);
  }

  /** Forgets `id`'s failures: an adapter made anew (new settings) starts with a closed circuit. */
  reset(id: string): void {
    this.failures.delete(id);
    this.open.delete(id);
  }

  /**
   * A failure of a request admitted by `admit` (`probe` as it said). While the circuit is open only
   * the probe's failure counts: a request admitted before it opened says nothing new.
   */
  recordFailure(id: string, probe: boolean): void {
    const now = this.now();
    const state = this.open.get(id);
    if (state) {
      if (!probe) return;
      const intervalMs = Math.min(this.policy.maxProbeIntervalMs, state.intervalMs * 2);
      this.open.set(id, { until: now + intervalMs, intervalMs });
      return;
    }
    const recent = (this.failures.get(id) ?? []).filter((t) => now - t < this.policy.failureWindowMs);
    recent.push(now);
    this.failures.set(id, recent);
    if (recent.length >= this.policy.allowedFails) this.trip(id, now);
  }

  /**
   * The server asked for a pause (Retry-After, already capped by the caller): skip `id` for `ms`,
   * never shortening a wait already running, then probe as after any outage.
   */
  coolDown(id: string, ms: number): void {
    const now = this.now();
    const state = this.open.get(id);
    this.failures.delete(id);
    this.open.set(id, { until: Math.max(state?.until ?? 0, now + ms), intervalMs: state?.intervalMs ?? this.policy.probeIntervalMs });
  }

  /** The probe ended without saying anything about the adapter: the next request probes. */
  release(id: string): void {
    const state = this.open.get(id);
    if (state?.probeStartedAt !== undefined) delete state.probeStartedAt;
  }

  private trip(id: string, now: number): void {
    this.failures.delete(id);
    this.open.set(id, { until: now + this.policy.probeIntervalMs, intervalMs: this.policy.probeIntervalMs });
  }
}
