/**
 * Every benchmark round, kept in the browser's IndexedDB (database `banking-intent-bench`, object
 * store `rounds`, through idb-keyval). Append-only: rounds are never changed or pruned, only deleted
 * all at once when the user clears the site's storage (`clear`, the site's "Storage" panel).
 *
 * Where IndexedDB is missing or fails (private mode, blocked by another tab, quota exceeded) the
 * store keeps rounds in memory instead, says so in `status` (and a `status` event) so the page
 * can show it, and keeps listing everything it already had: nothing is dropped silently.
 */
import { clear, createStore, entries, set, type UseStore } from 'idb-keyval';
import { mergeRounds } from './jsonl';
import type { BenchmarkRound } from './round';
import { TimeoutError } from '../core/errors';

export interface StoreStatus {
  /** True while rounds are written to IndexedDB; false when they live only as long as the page. */
  persistent: boolean;
  /** For the user, when not persistent: why, and what to do (export the results). */
  warning?: string;
}

/** What the scheduler needs of a store. */
export interface RoundStore {
  append(round: BenchmarkRound): Promise<void>;
}

export interface StoreOptions {
  /**
   * Use the browser's IndexedDB (the default where it exists); false keeps rounds in memory only.
   * There is no way to pass another IndexedDB: this chooses between the real one and none.
   */
  persistent?: boolean;
  /** How long opening the database may take before the store gives up on it. Default 5 s. */
  openTimeoutMs?: number;
}

export const DB_NAME = 'banking-intent-bench';
export const STORE_NAME = 'rounds';

const ADVICE = 'Export them as JSONL before closing the page to keep them.';

export class BenchmarkStore extends EventTarget implements RoundStore {
  /** Every round known to this page, by key: read from IndexedDB, or appended here. */
  private readonly rounds = new Map<string, BenchmarkRound>();
  private status_: StoreStatus;
  private lastMs = 0;
  private sequence = 0;

  private constructor(
    private idb: UseStore | undefined,
    status: StoreStatus,
  ) {
    super();
    this.status_ = status;
  }

  /** Opens the IndexedDB store and reads what it holds, or falls back to memory (see `status`). */
  static async open(options: StoreOptions = {}): Promise<BenchmarkStore> {
    if (options.persistent === false) {
      return new BenchmarkStore(undefined, { persistent: false, warning: `Benchmark results are kept in memory only. ${ADVICE}` });
    }
    if (typeof indexedDB === 'undefined') {
      return new BenchmarkStore(undefined, {
        persistent: false,
        warning: `This browser offers no IndexedDB storage (private mode?), so benchmark results are kept in memory only. ${ADVICE}`,
      });
    }
    const store = new BenchmarkStore(createStore(DB_NAME, STORE_NAME), { persistent: true });
    const timeoutMs = options.openTimeoutMs ?? 5_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new TimeoutError(`it did not open within ${timeoutMs / 1000} s (another tab may be blocking it)`)),
        timeoutMs,
      );
    });
    try {
      await Promise.race([store.read(), timeout]);
    } catch (error) {
      store.fallBack(`Could not open the browser's storage for benchmark results (${describe(error)})`);
    } finally {
      clearTimeout(timer);
    }
    return store;
  }

  get status(): StoreStatus {
    return { ...this.status_ };
  }

  /**
   * Adds a round. If IndexedDB refuses it (quota, closed database), the round stays in memory,
   * the store turns non-persistent, and the method still resolves: the caller loses nothing.
   */
  async append(round: BenchmarkRound): Promise<void> {
    const key = this.nextKey();
    this.rounds.set(key, round);
    if (!this.idb) return;
    try {
      await set(key, round, this.idb);
    } catch (error) {
      this.fallBack(`Could not save a benchmark round in the browser's storage (${describe(error)})`);
    }
  }

  /** Appends the rounds not already listed (same identity as `mergeRounds`); returns how many were added. */
  async importRounds(imported: readonly BenchmarkRound[]): Promise<number> {
    const existing = await this.list();
    const added = mergeRounds(existing, imported).slice(existing.length);
    for (const round of added) await this.append(round);
    return added.length;
  }

  /** Every round, oldest first (in the order they were appended, also by other tabs). */
  async list(): Promise<BenchmarkRound[]> {
    if (this.idb) {
      try {
        await this.read();
      } catch (error) {
        this.fallBack(`Could not read benchmark results from the browser's storage (${describe(error)})`);
      }
    }
    return [...this.rounds.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, round]) => round);
  }

  /**
   * Deletes every round, from IndexedDB and from this page; resolves with how many there were and
   * fires `cleared`. Throws (keeping the rounds listed) if IndexedDB refuses.
   */
  async clear(): Promise<number> {
    const count = (await this.list()).length;
    if (this.idb) await clear(this.idb);
    this.rounds.clear();
    this.dispatchEvent(new Event('cleared'));
    return count;
  }

  /** Loads what IndexedDB holds (rounds other tabs added, too) into the map. */
  private async read(): Promise<void> {
    const idb = this.idb!;
    // idb-keyval opens the database on first use and may throw synchronously (e.g. a SecurityError).
    const rows = await Promise.resolve().then(() => entries<string, BenchmarkRound>(idb));
    for (const [key, round] of rows) this.rounds.set(key, round);
  }

  /** From now on memory only; rounds already listed stay listed. */
  private fallBack(why: string): void {
    this.idb = undefined;
    this.status_ = { persistent: false, warning: `${why}. New benchmark results are kept in memory only. ${ADVICE}` };
    this.dispatchEvent(new Event('status'));
  }

  /**
   * `<ISO time>-<6-digit sequence>-<8 random hex>`: sorts by time (the clock never goes backwards
   * within a page), then by order within a millisecond; the random part keeps two tabs apart.
   */
  private nextKey(): string {
    const ms = Math.max(Date.now(), this.lastMs);
    this.sequence = ms === this.lastMs ? this.sequence + 1 : 0;
    this.lastMs = ms;
    const random = [...crypto.getRandomValues(new Uint8Array(4))].map((b) => b.toString(16).padStart(2, '0')).join('');
    return `${new Date(ms).toISOString()}-${String(this.sequence).padStart(6, '0')}-${random}`;
  }
}

/** `QuotaExceededError: …` for a DOMException (not an `Error` in every browser), the message otherwise. */
function describe(error: unknown): string {
  if (typeof error !== 'object' || error === null || !('message' in error)) return String(error);
  const { name, message } = error as { name?: unknown; message: unknown };
  return typeof name === 'string' && name !== 'Error' ? `${name}: ${String(message)}` : String(message);
}
