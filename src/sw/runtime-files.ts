/**
 * The onnxruntime-web runtime files under `<base>ort/` (vite.config.ts copies them there) by the
 * build that loads them, and the cache the service worker keeps them in once used (src/sw/sw.ts):
 * `ort-runtime-<version key>`, one per runtime version.
 */
export const ORT_RUNTIME_CACHE = 'ort-runtime';

/** Whether a Cache Storage name is one of the runtime's caches. */
export const isRuntimeCache = (name: string) => name === ORT_RUNTIME_CACHE || name.startsWith(`${ORT_RUNTIME_CACHE}-`);

/** `onnxruntime-web/wasm`'s pair (the custom model without WebGPU) and `/webgpu`'s (WebGPU, and the Llama). */
export const ORT_RUNTIME_FILES = {
  wasm: ['ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm'],
  webgpu: ['ort-wasm-simd-threaded.asyncify.mjs', 'ort-wasm-simd-threaded.asyncify.wasm'],
} as const;
