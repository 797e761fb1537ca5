/**
 * What a probe set is and how its id is derived: the id ends with the first 12 hex digits of the
 * SHA-256 of its items, so a record that names a probe set also pins its exact queries. Kept apart
 * from `probe-set.ts` (which imports the JSON) so the script that writes the JSON can use it too.
 * Web Crypto only: the same code runs in the page and in Node 20.
 */

export interface ProbeItem {
  text: string;
  /** The true Banking77 intent, or `out_of_scope` for a message that is none of them. */
  label: string;
}

export interface ProbeSet {
  /**
   * A name for the draw, then the first 12 hex digits of sha256(items): the bundled set's is
   * `b77-test-2x77-oos-<hash>` (`b77-test-2x77-…` before it had out-of-scope probes); one drawn for
   * a model from its own held-out rows (`probe-set.json` in its folder) `heldout-<k>-intents-<hash>`.
   */
  id: string;
  n: number;
  /** Where the items were drawn from, in words. */
  source: string;
  /** Seed of the draw, so `npm run probe-set` reproduces the file. */
  seed: number;
  items: ProbeItem[];
}

/** The file a model folder's own probe set is kept in (written by training; see probe-draw.ts). */
export const PROBE_SET_FILE = 'probe-set.json';

/** Names the draw (see scripts/make-probe-set.ts); the hash after it pins the exact items. */
export const PROBE_ID_PREFIX = 'b77-test-2x77-oos-';

/**
 * SHA-256 (hex) of the items as canonical JSON: `[{"text":…,"label":…},…]` in list order, with
 * exactly those two keys in that order, so reformatting the file does not change it.
 */
export async function probeItemsDigest(items: readonly ProbeItem[]): Promise<string> {
  const canonical = JSON.stringify(items.map(({ text, label }) => ({ text, label })));
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(canonical));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** The id a probe set with these items must carry: `prefix` (the bundled set's by default), then the hash. */
export async function probeSetId(items: readonly ProbeItem[], prefix: string = PROBE_ID_PREFIX): Promise<string> {
  return prefix + (await probeItemsDigest(items)).slice(0, 12);
}
