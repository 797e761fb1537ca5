/**
 * Times a load and adds up the bytes of model files it fetched, from the progress reports every
 * engine sends (`fetching <file>` with the bytes of that file so far, or, from the browser's
 * custom-model host, one download stage with the bytes of all its files so far, the runtime's
 * included): what a benchmark round records as `load_ms` and `download_bytes`.
 */
import type { LoadFacts, LoadProgress } from '../core/adapter';
import { isDownloadStage } from '../engine/load-plan';

export class LoadMeter {
  private readonly started = performance.now();
  /** File (or download stage) → bytes received so far (reports are cumulative per key). */
  private readonly files = new Map<string, number>();

  record(progress: LoadProgress): void {
    const file = /^fetching (.+)$/.exec(progress.stage)?.[1] ?? (isDownloadStage(progress.stage) ? progress.stage : undefined);
    if (file !== undefined && Number.isFinite(progress.loaded)) this.files.set(file, Math.max(this.files.get(file) ?? 0, progress.loaded));
  }

  /** The load's wall time so far and the bytes fetched. */
  finish(): LoadFacts {
    let bytes = 0;
    for (const loaded of this.files.values()) bytes += loaded;
    return { ms: Math.round((performance.now() - this.started) * 1000) / 1000, bytes };
  }
}
