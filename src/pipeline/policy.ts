/**
 * How the pipeline retries, waits, times out and skips failing adapters: retries and timeouts as
 * users know them from LiteLLM's router, a circuit breaker per adapter (./cooldowns.ts) for
 * outages, in one validated object.
 */
import { ConfigError } from '../core/errors';

export interface RouterPolicy {
  /** Extra attempts on the same adapter after a retryable error (timeout, 408, 409, 429, >= 500, network). */
  retries: number;
  /** First backoff; doubles with each retry, with jitter, up to `maxBackoffMs`. */
  backoffMs: number;
  maxBackoffMs: number;
  /** A server asking to wait longer than this (Retry-After, RetryInfo) is skipped for that long instead. */
  maxRetryAfterMs: number;
  /**
   * The longest a server's own Retry-After may keep it out of use: one header must not disable it
   * for days. After that, one probe request checks it as after any outage.
   */
  maxServerCooldownMs: number;
  /** Limit for one classify call on one adapter. */
  timeoutMs: number;
  /** Limit for loading an adapter (model download, session creation, server check). */
  loadTimeoutMs: number;
  /** Failures within `failureWindowMs` that open an adapter's circuit (it is skipped meanwhile). */
  allowedFails: number;
  failureWindowMs: number;
  /**
   * How long an open circuit waits before one request probes the adapter (the others keep
   * skipping it). A failed probe doubles the wait, up to `maxProbeIntervalMs`; a good one closes
   * the circuit. Replaces the former fixed `cooldownMs`.
   */
  probeIntervalMs: number;
  maxProbeIntervalMs: number;
}

export const DEFAULT_POLICY: RouterPolicy = {
  retries: 2,
  backoffMs: 200,
  maxBackoffMs: 4_000,
  maxRetryAfterMs: 10_000,
  maxServerCooldownMs: 300_000,
  timeoutMs: 15_000,
  loadTimeoutMs: 120_000,
  allowedFails: 3,
  failureWindowMs: 60_000,
  probeIntervalMs: 2_000,
  maxProbeIntervalMs: 60_000,
};

/** Exponential backoff with jitter (half fixed, half random) so that clients do not retry in step. */
export function backoffDelay(policy: RouterPolicy, attempt: number, random: () => number): number {
  const base = Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** attempt);
  return base / 2 + (base / 2) * random();
}

/** Checks a partial policy from config; returns the full policy or throws naming the bad field. */
export function resolvePolicy(partial: Partial<RouterPolicy> = {}): RouterPolicy {
  for (const key of Object.keys(partial)) {
    // A setting that does nothing must not look as if it did (e.g. the former `cooldownMs`).
    if (!(key in DEFAULT_POLICY)) {
      const hint = key === 'cooldownMs' ? ': use probeIntervalMs and maxProbeIntervalMs' : '';
      throw new ConfigError(`router policy: unknown field ${key}${hint}`);
    }
  }
  const policy = { ...DEFAULT_POLICY, ...partial };
  for (const [key, value] of Object.entries(policy)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
      throw new ConfigError(`router policy: ${key} must be a number >= 0, got ${String(value)}`);
  }
  if (policy.allowedFails < 1) throw new ConfigError('router policy: allowedFails must be at least 1');
  // 0 would probe a dead server on every request: the breaker would not break anything.
  if (policy.probeIntervalMs < 1) throw new ConfigError('router policy: probeIntervalMs must be at least 1');
  if (policy.maxProbeIntervalMs < policy.probeIntervalMs)
    throw new ConfigError(
      `router policy: maxProbeIntervalMs (${policy.maxProbeIntervalMs}) must be at least probeIntervalMs (${policy.probeIntervalMs})`,
    );
  return policy;
}
