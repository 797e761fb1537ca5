/**
 * The sizes of the onnxruntime-web runtime files the builds copy to `ort/` (src/sw/runtime-files.ts),
 * as the Vite `define` that src/engine/runtime-bytes.ts reads: the worker counts the runtime's
 * download against them before its first byte arrives.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ORT_RUNTIME_FILES } from '../../src/sw/runtime-files.js';

/** `{ __ORT_RUNTIME_BYTES__: '{"ort-wasm-simd-threaded.wasm":14264838,…}' }`, for a Vite config's `define`. */
export function ortRuntimeBytesDefine(dist = resolve(process.cwd(), 'node_modules/onnxruntime-web/dist')): Record<string, string> {
  const files = [...new Set(Object.values(ORT_RUNTIME_FILES).flat())];
  const sizes = Object.fromEntries(files.map((file) => [file, statSync(resolve(dist, file)).size]));
  return { __ORT_RUNTIME_BYTES__: JSON.stringify(sizes) };
}
