/**
 * The pipeline's circuit breaker (src/pipeline/cooldowns.ts) on an injected clock: an outage
 * opens it, one probe after a short interval checks the adapter, a failed probe waits longer, and
 * a server's Retry-After still applies. Plus the policy's validation of the new fields.
 */
import { describe, expect, it } from 'vitest';
import { CircuitBreakers } from '../../src/pipeline/cooldowns';
import { DEFAULT_POLICY, type RouterPolicy } from '../../src/core/config';
import { resolvePolicy } from '../../src/pipeline/policy';

function breakers(policy: Partial<RouterPolicy> = {}) {
  const clock = { now: 0 };
  const resolved = resolvePolicy({
    allowedFails: 2,
    failureWindowMs: 10_000,
    probeIntervalMs: 1_000,
    maxProbeIntervalMs: 8_000,
    ...policy,
  });
  return { clock, b: new CircuitBreakers(resolved, () => clock.now) };
}

describe('CircuitBreakers', () => {
  it('stays closed below allowedFails within the window; failures outside the window do not add up', () => {
    const { clock, b } = breakers();
    b.recordFailure('vllm', false);
    clock.now = 10_000; // the first failure has left the window
    b.recordFailure('vllm', false);
    expect(b.admit('vllm')).toEqual({ admitted: true, probe: false });
    expect(b.remaining('vllm')).toBe(0);
  });

  it('opens after allowedFails failures, then lets exactly one probe through after probeIntervalMs', () => {
    const { clock, b } = breakers();
    b.recordFailure('vllm', false);
    b.recordFailure('vllm', false);
    expect(b.admit('vllm')).toEqual({ admitted: false, waitMs: 1_000, probing: false });
    expect(b.remaining('vllm')).toBe(1_000);
    clock.now = 999;
    expect(b.admit('vllm')).toMatchObject({ admitted: false, waitMs: 1 });

    clock.now = 1_000;
    expect(b.admit('vllm')).toEqual({ admitted: true, probe: true });
    // Everyone else skips it while the probe runs, and the status says it is not free.
    expect(b.admit('vllm')).toEqual({ admitted: false, waitMs: 0, probing: true });
    expect(b.remaining('vllm')).toBeGreaterThan(0);
    // Other adapters are not affected.
    expect(b.admit('gemini')).toEqual({ admitted: true, probe: false });

    b.recordSuccess('vllm');
    expect(b.admit('vllm')).toEqual({ admitted: true, probe: false });
    expect(b.remaining('vllm')).toBe(0);
  });

  it('a failed probe re-opens with the interval doubled, capped at maxProbeIntervalMs; success resets it', () => {
    const { clock, b } = breakers();
    b.recordFailure('vllm', false);
    b.recordFailure('vllm', false);
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) {
      clock.now += b.remaining('vllm');
      expect(b.admit('vllm')).toEqual({ admitted: true, probe: true });
      b.recordFailure('vllm', true);
      waits.push(b.remaining('vllm'));
    }
    expect(waits).toEqual([2_000, 4_000, 8_000, 8_000, 8_000]);

    clock.now += 8_000;
    expect(b.admit('vllm')).toMatchObject({ probe: true });
    b.recordSuccess('vllm');
    // A new outage starts again from probeIntervalMs.
    b.recordFailure('vllm', false);
    b.recordFailure('vllm', false);
    expect(b.remaining('vllm')).toBe(1_000);
  });

  it('ignores the failure of a request admitted before the circuit opened (not the probe)', () => {
    const { clock, b } = breakers();
    b.recordFailure('vllm', false);
    b.recordFailure('vllm', false);
    clock.now = 500;
    b.recordFailure('vllm', false); // a straggler
    expect(b.remaining('vllm')).toBe(500);
  });

  it('a probe that ends without a verdict (release) hands the probe to the next request', () => {
    const { clock, b } = breakers();
    b.recordFailure('vllm', false);
    b.recordFailure('vllm', false);
    clock.now = 1_000;
    expect(b.admit('vllm')).toMatchObject({ probe: true });
    b.release('vllm');
    expect(b.admit('vllm')).toEqual({ admitted: true, probe: true });
    // After a verdict, release changes nothing.
    b.recordFailure('vllm', true);
    b.release('vllm');
    expect(b.admit('vllm')).toMatchObject({ admitted: false, waitMs: 2_000 });
  });

  it("a server's Retry-After opens it for that long (never shortening a longer wait), then one probe", () => {
    const { clock, b } = breakers();
    b.coolDown('gemini', 58_000);
    expect(b.remaining('gemini')).toBe(58_000);
    b.coolDown('gemini', 10_000);
    expect(b.remaining('gemini')).toBe(58_000);
    clock.now = 58_000;
    expect(b.admit('gemini')).toEqual({ admitted: true, probe: true });
    expect(b.admit('gemini')).toMatchObject({ admitted: false, probing: true });
    b.recordFailure('gemini', true);
    expect(b.remaining('gemini')).toBe(2_000);
  });
});

describe('RouterPolicy', () => {
  it('documents short probes by default instead of a fixed 30 s wait', () => {
    expect(DEFAULT_POLICY.probeIntervalMs).toBeLessThanOrEqual(5_000);
    expect(DEFAULT_POLICY.maxProbeIntervalMs).toBeGreaterThanOrEqual(DEFAULT_POLICY.probeIntervalMs);
    expect(DEFAULT_POLICY.maxServerCooldownMs).toBe(300_000);
  });

  it('rejects bad probe settings and fields that do nothing, naming them', () => {
    expect(() => resolvePolicy({ probeIntervalMs: 0 })).toThrow(/probeIntervalMs must be at least 1/);
    expect(() => resolvePolicy({ probeIntervalMs: 5_000, maxProbeIntervalMs: 1_000 })).toThrow(
      /maxProbeIntervalMs \(1000\) must be at least/,
    );
    expect(() => resolvePolicy({ maxProbeIntervalMs: Number.POSITIVE_INFINITY })).toThrow(/maxProbeIntervalMs must be a number >= 0/);
    expect(() => resolvePolicy({ cooldownMs: 30_000 } as Partial<RouterPolicy>)).toThrow(/unknown field cooldownMs: use probeIntervalMs/);
    expect(() => resolvePolicy({ retrys: 2 } as Partial<RouterPolicy>)).toThrow(/unknown field retrys/);
  });
});
