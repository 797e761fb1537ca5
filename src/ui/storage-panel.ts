/**
 * The site's "Storage" panel: what this site keeps in the browser, how big it is, a button that
 * removes it, and one that asks the browser to keep it.
 *
 * - Cache Storage, filled by the service worker (src/sw/sw.ts): the model files (`model-files`,
 *   src/sw/model-files.ts), Workbox's precache (the app, and the onnxruntime runtime under `/ort/`)
 *   and, once the Llama has run, the model runtime (`ort-runtime`). Each file is sized by its body.
 * - IndexedDB: the benchmark rounds (src/bench/store.ts), sized as their JSON.
 * - The browser's own estimate of all this origin stores, and its quota (`navigator.storage.estimate()`).
 *
 * "Clear stored data" deletes those caches and rounds and unregisters the service worker: the model
 * already loaded keeps answering in this page, and the next page load downloads what it needs again
 * (and makes the site ready offline again). "Keep it persistently" asks `navigator.storage.persist()`
 * and shows the browser's answer. The panel measures only while it is open: measuring opens every
 * cached file. Every text goes in with `textContent`.
 */
import type { BenchmarkStore } from '../bench/store';
import { MODEL_CACHE } from '../sw/model-files';
import { isRuntimeCache } from '../sw/runtime-files';
import { pageElement } from './page-element';

export type StoredKind = 'models' | 'runtime' | 'app' | 'rounds';

export const KIND_NAMES: Record<StoredKind, string> = {
  models: 'Model files',
  runtime: 'Runtime (WebAssembly)',
  app: 'App files',
  rounds: 'Benchmark rounds',
};

/** The same, inside a sentence: `Removed model files (…), runtime files (…) and …`. */
const REMOVED_NAMES: Record<Exclude<StoredKind, 'rounds'>, string> = {
  models: 'model files',
  runtime: 'runtime files',
  app: 'app files',
};

/** One response in one of the site's caches. */
export interface CachedFile {
  cache: string;
  url: string;
  bytes: number;
}

/** One line of the panel: what, how many, how big. */
export interface StoredItem {
  kind: StoredKind;
  count: number;
  bytes: number;
}

export interface StorageUsage {
  items: StoredItem[];
  /** `navigator.storage.estimate()`, where the browser has it. */
  estimate?: { usage: number; quota: number };
}

/**
 * Whether a cache is this site's: the model files, the Llama's runtime, or Workbox's caches for the
 * service worker's `scope` (Workbox ends their names with it). Another site on the same origin
 * keeps its own.
 */
export function isSiteCache(name: string, scope: string): boolean {
  return name === MODEL_CACHE || isRuntimeCache(name) || (name.startsWith('workbox-') && name.endsWith(scope));
}

/** What a cached file is, from its cache and its path. */
export function kindOf(file: Pick<CachedFile, 'cache' | 'url'>): Exclude<StoredKind, 'rounds'> {
  if (file.cache === MODEL_CACHE) return 'models';
  if (isRuntimeCache(file.cache)) return 'runtime';
  const path = new URL(file.url).pathname;
  if (path.includes('/models/')) return 'models';
  if (/\/ort(-transformers)?\//.test(path) || path.endsWith('.wasm')) return 'runtime';
  return 'app';
}

/** The panel's lines, in a fixed order, from the cached files and the rounds. */
export function summarise(files: readonly CachedFile[], rounds: { count: number; bytes: number }): StoredItem[] {
  const items = new Map<StoredKind, StoredItem>(
    (['models', 'runtime', 'app'] as const).map((kind) => [kind, { kind, count: 0, bytes: 0 }]),
  );
  for (const file of files) {
    const item = items.get(kindOf(file))!;
    item.count++;
    item.bytes += file.bytes;
  }
  return [...items.values(), { kind: 'rounds', ...rounds }];
}

/** `0 B`, `812 B`, `40.2 kB`, `3.5 MB`, `1.20 GB` (powers of 1000, as the README's sizes). */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1e6) return `${(bytes / 1e3).toFixed(1)} kB`;
  if (bytes < 1e9) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${(bytes / 1e9).toFixed(2)} GB`;
}

function counted(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** `Cache Storage, 6 files` / `IndexedDB, 2 rounds`. */
function where(item: StoredItem): string {
  return item.kind === 'rounds' ? `IndexedDB, ${counted(item.count, 'round')}` : `Cache Storage, ${counted(item.count, 'file')}`;
}

/** `model files (6 files, 3.5 MB), runtime files (2 files, 26.1 MB) and 2 benchmark rounds (about 41.0 kB)`; empty for nothing. */
export function describeRemoved(items: readonly StoredItem[]): string {
  const parts = items
    .filter((item) => item.count > 0)
    .map((item) =>
      item.kind === 'rounds'
        ? `${counted(item.count, 'benchmark round')} (about ${formatBytes(item.bytes)})`
        : `${REMOVED_NAMES[item.kind]} (${counted(item.count, 'file')}, ${formatBytes(item.bytes)})`,
    );
  return parts.length <= 1 ? parts.join('') : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}`;
}

export interface StorageView {
  details: HTMLDetailsElement;
  rows: HTMLTableSectionElement;
  total: HTMLElement;
  persistence: HTMLElement;
  refresh: HTMLButtonElement;
  persist: HTMLButtonElement;
  clear: HTMLButtonElement;
  status: HTMLElement;
  error: HTMLElement;
}

export function findStorageView(root: Document): StorageView {
  const get = <T extends HTMLElement>(id: string, type: { new (): T }): T => pageElement(root, id, type);
  return {
    details: get('storage', HTMLDetailsElement),
    rows: get('storage-rows', HTMLTableSectionElement),
    total: get('storage-total', HTMLElement),
    persistence: get('storage-persistence', HTMLElement),
    refresh: get('storage-refresh', HTMLButtonElement),
    persist: get('storage-persist', HTMLButtonElement),
    clear: get('storage-clear', HTMLButtonElement),
    status: get('storage-status', HTMLElement),
    error: get('storage-error', HTMLElement),
  };
}

export interface StoragePanelOptions {
  /** The benchmark rounds' store, once open. */
  rounds: Promise<BenchmarkStore>;
  /** The service worker's scope, absolute (the site's base URL). */
  scope: string;
  /** After a clear: the page is no longer ready offline. */
  onCleared?: () => void;
}

export class StoragePanel {
  /** Measurements may finish out of order: only the latest one is drawn. */
  private measures = 0;

  constructor(
    private readonly view: StorageView,
    private readonly options: StoragePanelOptions,
  ) {}

  start(): void {
    const { view } = this;
    view.details.addEventListener('toggle', () => void this.refresh());
    view.refresh.addEventListener('click', () => void this.refresh());
    view.clear.addEventListener('click', () => void this.clear());
    view.persist.addEventListener('click', () => void this.persist());
    const storage = navigator.storage as StorageManager | undefined;
    if (!storage?.persist) {
      view.persist.hidden = true;
      view.persistence.textContent = 'This browser cannot be asked to keep the data persistently.';
      return;
    }
    void storage.persisted().then(
      (persisted) => this.showPersistence(persisted, false),
      () => undefined,
    );
  }

  /** Measures again and redraws, while the panel is open. */
  async refresh(): Promise<void> {
    if (!this.view.details.open) return;
    const measure = ++this.measures;
    try {
      const usage = await this.measure();
      if (measure === this.measures) this.render(usage);
    } catch (error) {
      if (measure === this.measures) this.showError(`Could not measure what is stored: ${messageOf(error)}`);
    }
  }

  /** What the site stores now. */
  async measure(): Promise<StorageUsage> {
    const [files, rounds, estimate] = await Promise.all([this.cachedFiles(), this.rounds(), estimateUsage()]);
    return { items: summarise(files, rounds), estimate };
  }

  /** Deletes the site's caches and rounds, unregisters its service worker, and says what went. */
  async clear(): Promise<void> {
    const { view, options } = this;
    this.clearMessages();
    this.setBusy(true);
    try {
      const before = await this.measure();
      if ('caches' in globalThis) {
        for (const name of await caches.keys()) if (isSiteCache(name, options.scope)) await caches.delete(name);
      }
      await (await options.rounds).clear();
      // Its precache is gone: left registered, it would claim to be offline-ready while it is not.
      // The next page load registers it again, and it caches the site again.
      const registration = await navigator.serviceWorker?.getRegistration(options.scope);
      await registration?.unregister();
      options.onCleared?.();
      const removed = describeRemoved(before.items);
      const files = before.items.some((item) => item.kind !== 'rounds' && item.count > 0);
      view.status.textContent = !removed
        ? 'There was nothing stored to remove.'
        : `Removed ${removed}.` +
          (files ? ' The loaded model keeps answering in this page; the next time the page opens it downloads its files again.' : '');
    } catch (error) {
      this.showError(`Could not clear everything: ${messageOf(error)}`);
    } finally {
      this.setBusy(false);
      await this.refresh();
    }
  }

  /** Asks the browser to keep the data until the user clears it, and shows its answer. */
  async persist(): Promise<void> {
    this.clearMessages();
    this.setBusy(true);
    try {
      this.showPersistence(await navigator.storage.persist(), true);
    } catch (error) {
      this.showError(`Could not ask the browser to keep the data: ${messageOf(error)}`);
    } finally {
      this.setBusy(false);
    }
  }

  private async cachedFiles(): Promise<CachedFile[]> {
    if (!('caches' in globalThis)) return [];
    const files: CachedFile[] = [];
    for (const name of await caches.keys()) {
      if (!isSiteCache(name, this.options.scope)) continue;
      const cache = await caches.open(name);
      for (const request of await cache.keys()) {
        // ignoreVary: the Llama's runtime is kept with `Vary: Origin` (src/sw/sw.ts).
        const response = await cache.match(request, { ignoreVary: true });
        files.push({ cache: name, url: request.url, bytes: response ? (await response.blob()).size : 0 });
      }
    }
    return files;
  }

  private async rounds(): Promise<{ count: number; bytes: number }> {
    const rounds = await (await this.options.rounds).list();
    return { count: rounds.length, bytes: rounds.length === 0 ? 0 : new Blob([JSON.stringify(rounds)]).size };
  }

  private render({ items, estimate }: StorageUsage): void {
    const { view } = this;
    view.rows.replaceChildren(
      ...items.map((item) => {
        const row = document.createElement('tr');
        row.dataset.kind = item.kind;
        row.dataset.count = String(item.count);
        row.dataset.bytes = String(item.bytes);
        // Two columns, so that it fits a phone: what (and, under it, where), then the size.
        const name = document.createElement('th');
        name.scope = 'row';
        const place = document.createElement('span');
        place.className = 'storage__where';
        place.textContent = where(item);
        name.append(KIND_NAMES[item.kind], place);
        const size = document.createElement('td');
        size.className = 'num';
        size.textContent = item.kind === 'rounds' && item.bytes > 0 ? `about ${formatBytes(item.bytes)}` : formatBytes(item.bytes);
        row.append(name, size);
        return row;
      }),
    );
    view.total.dataset.usage = String(estimate?.usage ?? '');
    view.total.textContent = estimate
      ? `In all, this site uses ${formatBytes(estimate.usage)} of the ${formatBytes(estimate.quota)} the browser allows it ` +
        "(the browser's estimate, with its own overhead)."
      : 'This browser does not say how much this site stores in all.';
  }

  private showPersistence(persisted: boolean, asked: boolean): void {
    const { view } = this;
    view.persistence.dataset.persisted = String(persisted);
    view.persist.disabled = persisted;
    view.persistence.textContent = persisted
      ? 'Kept persistently: the browser will not remove this data to make room; only Clear, or you in its settings, will.'
      : asked
        ? 'The browser said no: it may remove this data when space runs low. Browsers allow it for sites you use often, bookmark or install.'
        : 'Not kept persistently: the browser may remove this data when space runs low.';
  }

  private setBusy(busy: boolean): void {
    const { view } = this;
    view.clear.disabled = busy;
    view.refresh.disabled = busy;
    if (busy) view.persist.disabled = true;
    else view.persist.disabled = view.persistence.dataset.persisted === 'true';
  }

  private showError(message: string): void {
    this.view.error.textContent = message;
    this.view.error.hidden = false;
  }

  private clearMessages(): void {
    this.view.error.hidden = true;
    this.view.error.textContent = '';
    this.view.status.textContent = '';
  }
}

async function estimateUsage(): Promise<StorageUsage['estimate']> {
  const storage = navigator.storage as StorageManager | undefined;
  if (!storage?.estimate) return undefined;
  const { usage, quota } = await storage.estimate();
  return usage === undefined || quota === undefined ? undefined : { usage, quota };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
