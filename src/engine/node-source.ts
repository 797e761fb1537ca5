/** Model files from a folder on disk, for the Node CLI and tests. */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ModelFileError } from '../core/errors';
import { MissingModelFileError, type ModelSource } from './model-source';

export function directorySource(dir: string): ModelSource {
  return {
    location: resolve(dir),
    async read(file, options = {}) {
      try {
        const bytes = new Uint8Array(await readFile(join(dir, file), { signal: options.signal }));
        options.onProgress?.({ file, loaded: bytes.byteLength, total: bytes.byteLength });
        return bytes;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT')
          throw new MissingModelFileError({ message: `Model file ${file} is missing in ${resolve(dir)}.`, file, cause: error });
        throw new ModelFileError({
          message: `Model file ${file} cannot be read (${code ?? (error as Error).message}) in ${resolve(dir)}.`,
          file,
          cause: error,
        });
      }
    },
  };
}
