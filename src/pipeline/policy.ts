/**
 * How the pipeline retries, waits, times out and cools adapters down: the behaviour users know
 * from LiteLLM's router, in one validated object.
 */
export interface RouterPolicy {
  /** Extra attempts on the same adapter after a retryable error (timeout, 408, 409, 429, >= 500, network). */
  retries: number;
  /** First backoff; doubles with each retry, with jitter, up to `maxBackoffMs`. */
  backoffMs: number;
  maxBackoffMs: number;
  /** A server asking to wait longer than this (Retry-After, RetryInfo) is skipped for that long instead. */
  maxRetryAfterMs: number;
  /** The longest a server's own Retry-After may keep it out of use: one header must not disable it for days. */
  maxServerCooldownMs: number;
  /** Limit for one classify call on one adapter. */
  timeoutMs: number;
  /** Limit for loading an adapter (model download, session creation, server check). */
  loadTimeoutMs: number;
  /** Failures within `failureWindowMs` that put an adapter in cooldown. */
  allowedFails: number;
  failureWindowMs: number;
  /** How long a failing adapter is skipped before it is tried again. */
  cooldownMs: number;
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
  cooldownMs: 30_000,
};

/** Exponential backoff with jitter (half fixed, half random) so that clients do not retry in step. */
export function backoffDelay(policy: RouterPolicy, attempt: number, random: () => number): number {
  const base = Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** attempt);
  return base / 2 + (base / 2) * random();
}

/** Checks a partial policy from config; returns the full policy or throws naming the bad field. */
export function resolvePolicy(partial: Partial<RouterPolicy> = {}): RouterPolicy {
  const policy = { ...DEFAULT_POLICY, ...partial };
  for (const [key, value] of Object.entries(policy)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
      throw new Error(`router policy: ${key} must be a number >= 0, got ${String(value)}`);
  }
  if (policy.allowedFails < 1) throw new Error('router policy: allowedFails must be at least 1');
  return policy;
}
