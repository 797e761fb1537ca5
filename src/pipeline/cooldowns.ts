/**
 * Which adapters are cooling down. An adapter that failed `allowedFails` times within the window
 * is skipped until its cooldown ends, then tried again; one success clears its record.
 */
import type { RouterPolicy } from './policy';

export class Cooldowns {
  private readonly failures = new Map<string, number[]>();
  private readonly until = new Map<string, number>();

  constructor(
    private readonly policy: RouterPolicy,
    private readonly now: () => number,
  ) {}

  /** Milliseconds left in `id`'s cooldown, 0 when it may be tried. */
  remaining(id: string): number {
    return Math.max(0, (this.until.get(id) ?? 0) - this.now());
  }

  recordFailure(id: string): void {
    const now = this.now();
    const recent = (this.failures.get(id) ?? []).filter((t) => now - t < this.policy.failureWindowMs);
    recent.push(now);
    this.failures.set(id, recent);
    if (recent.length >= this.policy.allowedFails) this.coolDown(id, this.policy.cooldownMs);
  }

  /** Skips `id` for `ms` (e.g. a server's Retry-After), never shortening a cooldown already running. */
  coolDown(id: string, ms: number): void {
    this.until.set(id, Math.max(this.until.get(id) ?? 0, this.now() + ms));
    this.failures.delete(id);
  }

  recordSuccess(id: string): void {
    this.failures.delete(id);
    this.until.delete(id);
  }
}
