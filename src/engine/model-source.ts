/**
 * Where model files come from. The engine asks for files by name and does not care whether they
 * come over HTTP (browser, worker) or from the disk (Node CLI, tests).
 */
import { throwIfAborted } from '../core/abort';
import { ModelFileError } from '../core/errors';
import { concatTyped } from '../core/typed-arrays';

export interface FileProgress {
  file: string;
  loaded: number;
  total: number;
}

/**
 * The file is not there (HTTP 404 or 410, no such file on disk), as opposed to unreadable: lets a
 * caller tell an absent optional file from a broken one. Still a `ModelFileError` everywhere else.
 */
export class MissingModelFileError extends ModelFileError {
  static override readonly kind: string = 'MissingModelFileError';
}

export interface ModelSource {
  /** Human-readable location, used in error messages (`https://…/models/custom/`, `public/models/custom`). */
  readonly location: string;
  read(file: string, options?: { signal?: AbortSignal; onProgress?: (p: FileProgress) => void }): Promise<Uint8Array>;
}

/** Files under a base URL, streamed so that progress can be shown while a large file arrives. */
export function httpSource(baseUrl: string, fetchImpl: typeof fetch = fetch): ModelSource {
  const base = baseUrl.endsWith('/') ? baseUrl : baseUrl + '/';
  return {
    location: base,
    async read(file, options = {}) {
      const url = new URL(file, base).href;
      let response: Response;
      try {
        response = await fetchImpl(url, { signal: options.signal });
      } catch (error) {
        throwIfAborted(options.signal);
        throw new ModelFileError({ message: `Could not download ${file} from ${url}: ${(error as Error).message}`, file, cause: error });
      }
      if (!response.ok) {
        const message = `Model file ${file} is missing: ${url} answered HTTP ${response.status}.`;
        throw response.status === 404 || response.status === 410
          ? new MissingModelFileError({ message, file })
          : new ModelFileError({ message, file });
      }
      const total = Number(response.headers.get('content-length') ?? 0);
      if (!response.body) return new Uint8Array(await response.arrayBuffer());
      const chunks: Uint8Array[] = [];
      let loaded = 0;
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        loaded += value.byteLength;
        options.onProgress?.({ file, loaded, total });
      }
      return concatTyped(chunks, Uint8Array);
    },
  };
}
