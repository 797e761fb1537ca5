/**
 * The benchmark's probe set, written by `npm run probe-set` (scripts/make-probe-set.ts): 154
 * Banking77 test queries, two per intent, and 34 held-out out-of-scope messages labelled
 * `out_of_scope`, two per source group of the negatives' test split. Every round sends these same
 * queries to every model, so rounds compare models side by side and over time.
 */
import json from './probe-set.json';
import { PROBE_ID_PREFIX, probeItemsDigest, type ProbeSet } from './probe-hash';
import { ConfigError } from '../core/errors';

export type { ProbeItem, ProbeSet } from './probe-hash';

export const PROBE_SET: ProbeSet = json;

/**
 * Recomputes the items' hash and checks it against the end of the id (and `n` against the items),
 * so a probe set edited by hand is never benchmarked under the id of the original. Throws when
 * they differ.
 */
export async function verifyProbeSet(set: ProbeSet = PROBE_SET): Promise<void> {
  const hash = (await probeItemsDigest(set.items)).slice(0, 12);
  // The name before the hash is free (a model's own set has its own); the hash is not.
  const prefix = /-[0-9a-f]{12}$/.test(set.id) ? set.id.slice(0, -12) : PROBE_ID_PREFIX;
  const expected = prefix + hash;
  if (set.id !== expected) {
    throw new ConfigError(
      `Probe set "${set.id}" does not match its items (they hash to ${expected}): it was changed; rerun npm run probe-set.`,
    );
  }
  if (set.n !== set.items.length) throw new ConfigError(`Probe set "${set.id}" says n = ${set.n} but has ${set.items.length} items.`);
}
