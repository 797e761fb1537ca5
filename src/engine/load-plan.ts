/**
 * One load's downloads as one progress report: every file the first answer waits for (the
 * onnxruntime-web runtime's `.wasm` and the model's files) counted together, against a total that
 * is known before the first byte (the runtime's size from the build, the model files' from the
 * folder's manifest.json), never from `Content-Length`, which is the compressed size when a server
 * sends `Content-Encoding: br` or `gzip`.
 *
 * The report never says "all there" before the last byte of the last file: a file still arriving
 * counts at most one byte short of its size, even when it turns out larger than announced.
 */
import type { LoadProgress } from '../core/adapter';

/** The stages a worker host reports while it downloads (or reads from cache) a model's files. */
export const DOWNLOAD_STAGES = {
  /** The model's files and the runtime, from the network. */
  modelAndRuntime: 'downloading the model and its runtime',
  /** Only the model's files (the runtime is in already, or not fetched by the host). */
  model: 'downloading the model',
  /** Only the runtime (e.g. the WebAssembly one after WebGPU failed: the model's files are in). */
  runtime: 'downloading the model runtime',
  /** Everything from this device's cache (the service worker's): no download. */
  cached: 'loading the model from this device',
} as const;

const STAGE_SET: ReadonlySet<string> = new Set(Object.values(DOWNLOAD_STAGES));

/** Whether `stage` is one of `DOWNLOAD_STAGES`: `loaded` then counts every file of the load together. */
export function isDownloadStage(stage: string): boolean {
  return STAGE_SET.has(stage);
}

/** One file a load waits for, by a key of the caller's (a URL), with its decoded size when known. */
export interface PlannedFile {
  key: string;
  /** Decoded size in bytes; undefined when not known (the total is then unknown too). */
  bytes?: number;
}

interface FileState {
  expected?: number;
  received: number;
  done: boolean;
}

/**
 * Adds up the bytes of a load's files and reports them as one `LoadProgress`. Files can be added
 * and can receive bytes before `start()`; nothing is reported until then, so that the first
 * report already carries the total.
 */
export class DownloadMeter {
  private readonly files = new Map<string, FileState>();
  private stage: string | undefined;
  private cached = false;
  private lastLoaded = -1;

  /** `emit` gets each report; `step` is the fraction of the total between two reports (default 0.5%; 0: every update). */
  constructor(
    private readonly emit: (progress: LoadProgress) => void,
    private readonly step = 0.005,
  ) {}

  /** Adds files to wait for. A file already known keeps its state. */
  expect(files: readonly PlannedFile[]): void {
    for (const file of files) {
      if (!this.files.has(file.key)) this.files.set(file.key, { expected: file.bytes, received: 0, done: false });
    }
  }

  /** Whether the meter waits for `key`. */
  has(key: string): boolean {
    return this.files.has(key);
  }

  /** All decoded bytes the load fetches; 0 when a size is not known. */
  get total(): number {
    let total = 0;
    for (const file of this.files.values()) {
      if (file.expected === undefined) return 0;
      total += file.expected;
    }
    return total;
  }

  /** Bytes received so far; below `total` until every file is complete. */
  get loaded(): number {
    const known = this.total > 0;
    let loaded = 0;
    for (const file of this.files.values()) {
      if (!known || file.expected === undefined) loaded += file.received;
      else if (file.done) loaded += file.expected;
      else loaded += Math.min(file.received, Math.max(0, file.expected - 1));
    }
    return loaded;
  }

  /** Whether every file is complete. */
  get complete(): boolean {
    for (const file of this.files.values()) if (!file.done) return false;
    return true;
  }

  /** Starts reporting, as `stage`; `cached` when the bytes come from this device rather than the network. */
  start(stage: string, cached = false): void {
    this.stage = stage;
    this.cached = cached;
    this.report(true);
  }

  /** `key` has received `loaded` bytes in all so far. */
  update(key: string, loaded: number): void {
    const file = this.files.get(key);
    if (!file || file.done) return;
    file.received = Math.max(file.received, loaded);
    this.report(false);
  }

  /** `key` is complete, with `bytes` bytes. */
  finish(key: string, bytes: number): void {
    const file = this.files.get(key);
    if (!file || file.done) return;
    file.received = bytes;
    file.done = true;
    this.report(true);
  }

  private report(always: boolean): void {
    if (this.stage === undefined) return;
    const total = this.total;
    const loaded = this.loaded;
    // A report per network chunk would flood the page's thread: one per `step` of the total (or
    // 256 kB while it is unknown), and always at the start and at each file's end.
    const step = this.step === 0 ? 0 : total > 0 ? total * this.step : 256 * 1024;
    if (!always && loaded - this.lastLoaded < step) return;
    this.lastLoaded = loaded;
    this.emit({ stage: this.stage, loaded, total, cached: this.cached });
  }
}
