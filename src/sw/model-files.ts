/**
 * The service worker's handling of model files (src/sw/sw.ts wires it in). Workbox's precache
 * would serve a cached model file for as long as its build revision stays the same: a copy that
 * arrived broken stays broken, whatever the server has since. Here each model folder's files are
 * checked against the folder's manifest.json (fetched network first, so a fixed or new manifest is
 * seen) every time they are served:
 *
 * - install: for each folder in `installFolders` (default: all), fetch its manifest, then each file
 *   the build lists; keep the files that match (a cached copy that still matches is not downloaded
 *   again, and the HTTP cache is used first: the page has usually just downloaded the default
 *   model). A file that does not match is fetched once more past the HTTP cache, then, if it still
 *   does not match, not kept; that does not fail the install: the engine then names it to the user.
 * - keep(folder): the same for one more folder, once the page has used its model (a model only
 *   some visitors use is not downloaded by every visitor).
 * - fetch: a cached copy that matches the manifest is served; one that does not is deleted and the
 *   file fetched again past the HTTP cache; what the network gives is kept only if it matches,
 *   and handed to the page either way (the engine then reports the mismatch by file name).
 * - offline: the last manifest that arrived, and the copies that match it.
 * - activate: copies of files the build no longer lists are deleted.
 *
 * No Workbox here, so that it runs in Node's tests with a cache and fetch of their own.
 */
import { ModelFileError } from '../core/errors';
import { manifestMismatch, MODEL_MANIFEST_FILE, parseModelManifest, type ModelManifest } from '../engine/model-manifest';

export const MODEL_CACHE = 'model-files';

type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

export interface ModelFilesOptions {
  /** Absolute URLs of the build's model files, manifest.json included (from the precache list). */
  urls: readonly string[];
  caches: Pick<CacheStorage, 'open'>;
  fetch: Fetch;
  cacheName?: string;
  /** A manifest fetched this recently is reused for the files asked for next (default 5 s). */
  freshMs?: number;
  /** How long to wait for the network's manifest before using the cached one (default 5 s). */
  manifestTimeoutMs?: number;
  /** The folders `install` caches; the others wait for `keep`. Default: every folder. */
  installFolders?: readonly string[];
  log?: (message: string) => void;
}

interface ManifestState {
  manifest?: ModelManifest;
  /** The manifest's bytes to answer a request for it with; undefined when there is nothing to answer. */
  body?: Uint8Array;
  status: number;
}

/** The folders among `urls` that have a manifest.json, each ending in `/`. */
export function modelFolders(urls: readonly string[]): string[] {
  const suffix = '/' + MODEL_MANIFEST_FILE;
  return urls.filter((url) => url.endsWith(suffix)).map((url) => url.slice(0, -MODEL_MANIFEST_FILE.length));
}

const withoutQuery = (url: string) => url.replace(/[?#].*$/, '');

export class ModelFiles {
  private readonly urls: Set<string>;
  private readonly folders: string[];
  private readonly manifests = new Map<string, { at: number; state: Promise<ManifestState> }>();
  private readonly log: (message: string) => void;

  constructor(private readonly o: ModelFilesOptions) {
    this.folders = modelFolders(o.urls);
    // Only files of folders with a manifest: anything else is left to the precache.
    this.urls = new Set(o.urls.filter((url) => this.folderOf(url) !== undefined));
    this.log = o.log ?? (() => undefined);
  }

  /** The build's model files that this class caches (and so must be left out of Workbox's precache). */
  get cachedUrls(): string[] {
    return [...this.urls];
  }

  /** Whether a request is for a file of a model folder (listed by the build or not). */
  handles(request: Request): boolean {
    return request.method === 'GET' && this.folderOf(withoutQuery(request.url)) !== undefined;
  }

  async respond(request: Request): Promise<Response> {
    const url = withoutQuery(request.url);
    const folder = this.folderOf(url)!;
    const file = url.slice(folder.length);
    if (file === MODEL_MANIFEST_FILE) {
      // An engine reads the manifest first: a fresh one, then, for the files it asks for next.
      const state = await this.manifestFor(folder, true);
      if (!state.body) return Response.error();
      return new Response(state.body as Uint8Array<ArrayBuffer>, {
        status: state.status,
        headers: { 'content-type': 'application/json' },
      });
    }
    const { manifest } = await this.manifestFor(folder, false);
    const cache = await this.cache();
    const cached = await cache.match(url);
    // No manifest anywhere (never fetched, and offline): nothing to check against.
    if (!manifest) return cached ?? this.o.fetch(url);
    // Not listed: never kept; the engine refuses it by name.
    if (!manifest.files[file]) return this.o.fetch(url);
    if (cached) {
      if (!(await this.mismatch(manifest, file, cached))) return cached;
      await cache.delete(url);
      this.log(`${file}: the cached copy does not match ${MODEL_MANIFEST_FILE}; fetching it again.`);
    }
    // Past the HTTP cache too: it may hold the same broken copy.
    const response = await this.o.fetch(url, { cache: 'reload' });
    if (!response.ok) return response;
    const mismatch = await this.mismatch(manifest, file, response);
    if (mismatch) this.log(`${file}: the server's copy does not match ${MODEL_MANIFEST_FILE} either; not kept.`);
    else if (this.urls.has(url)) await cache.put(url, response.clone());
    return response;
  }

  /** Caches every model file the build lists in `installFolders`, checked. Throws (failing the install) when the network fails. */
  async install(): Promise<void> {
    const installed = this.o.installFolders;
    for (const folder of this.folders) if (!installed || installed.includes(folder)) await this.keep(folder);
  }

  /** Caches every file the build lists in `folder` (a model folder of this build), checked. Throws when the network fails. */
  async keep(folder: string): Promise<void> {
    if (!this.folders.includes(folder))
      throw new ModelFileError({ message: `${folder} is not a model folder of this site.`, file: folder });
    const cache = await this.cache();
    const { manifest, status } = await this.manifestFor(folder, true);
    if (!manifest)
      throw new ModelFileError({
        message: `${folder}${MODEL_MANIFEST_FILE} could not be fetched (HTTP ${status || 'error'}).`,
        file: MODEL_MANIFEST_FILE,
      });
    for (const url of this.urls) {
      const file = url.slice(folder.length);
      if (!url.startsWith(folder) || file === MODEL_MANIFEST_FILE) continue;
      if (!manifest.files[file]) {
        this.log(`${file} is not listed in ${folder}${MODEL_MANIFEST_FILE}: not kept for offline use.`);
        continue;
      }
      const cached = await cache.match(url);
      if (cached && !(await this.mismatch(manifest, file, cached))) continue;
      // The HTTP cache first (the page has usually just fetched the file), then past it if that copy is wrong.
      let response = await this.o.fetch(url);
      let mismatch = response.ok ? await this.mismatch(manifest, file, response) : undefined;
      if (!response.ok || mismatch) {
        response = await this.o.fetch(url, { cache: 'reload' });
        if (!response.ok) throw new ModelFileError({ message: `${url} answered HTTP ${response.status}.`, file });
        mismatch = await this.mismatch(manifest, file, response);
      }
      if (mismatch) {
        if (cached) await cache.delete(url);
        this.log(`${mismatch.message} Not kept for offline use.`);
        continue;
      }
      await cache.put(url, response);
    }
  }

  /** Deletes cached copies of files this build does not list. */
  async activate(): Promise<void> {
    const cache = await this.cache();
    for (const request of await cache.keys()) {
      if (!this.urls.has(request.url)) await cache.delete(request);
    }
  }

  private folderOf(url: string): string | undefined {
    return this.folders.find((folder) => url.startsWith(folder));
  }

  private cache(): Promise<Cache> {
    return this.o.caches.open(this.o.cacheName ?? MODEL_CACHE);
  }

  private async mismatch(manifest: ModelManifest, file: string, response: Response) {
    return manifestMismatch(manifest, file, new Uint8Array(await response.clone().arrayBuffer()));
  }

  /** The folder's manifest: from the network (reused for `freshMs` unless `fresh`), else the last one kept. */
  private manifestFor(folder: string, fresh: boolean): Promise<ManifestState> {
    const known = this.manifests.get(folder);
    if (known && !fresh && Date.now() - known.at < (this.o.freshMs ?? 5000)) return known.state;
    const state = this.loadManifest(folder);
    this.manifests.set(folder, { at: Date.now(), state });
    return state;
  }

  private async loadManifest(folder: string): Promise<ManifestState> {
    const url = folder + MODEL_MANIFEST_FILE;
    const cache = await this.cache();
    let status = 0;
    try {
      const response = await this.o.fetch(url, { cache: 'reload', signal: AbortSignal.timeout(this.o.manifestTimeoutMs ?? 5_000) });
      status = response.status;
      if (response.ok) {
        const body = new Uint8Array(await response.arrayBuffer());
        try {
          const manifest = parseModelManifest(body);
          await cache.put(url, new Response(body, { headers: { 'content-type': 'application/json' } }));
          return { manifest, body, status };
        } catch {
          this.log(`${url} is corrupt; using the last good copy.`);
        }
      } else if (status >= 400 && status < 500) {
        // The server has no manifest (any more): forget ours rather than check against a stale one.
        await cache.delete(url);
        return { body: new Uint8Array(await response.arrayBuffer()), status };
      }
    } catch {
      // Offline, or too slow: the last manifest that arrived.
    }
    const cached = await cache.match(url);
    if (cached) {
      const body = new Uint8Array(await cached.arrayBuffer());
      try {
        return { manifest: parseModelManifest(body), body, status: 200 };
      } catch {
        await cache.delete(url);
      }
    }
    return { status };
  }
}
