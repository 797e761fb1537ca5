/**
 * How the pipeline retries, waits, times out and skips failing adapters: retries and timeouts as
 * users know them from LiteLLM's router, a circuit breaker per adapter (./cooldowns.ts) for
 * outages, in one validated object.
 */
import { DEFAULT_POLICY, type RouterPolicy } from '../core/config';
import { ConfigError } from '../core/errors';

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
