/**
 * The decoded size of each onnxruntime-web runtime file (src/sw/runtime-files.ts), by file name,
 * as the build copies it to `ort/`: measured by the Vite configs from
 * node_modules/onnxruntime-web/dist (scripts/lib/ort-runtime-bytes.ts) and put in as the constant
 * `__ORT_RUNTIME_BYTES__`. A load's progress counts the runtime against these sizes from its first
 * report on (a server's `Content-Length` is the compressed size when it compresses).
 *
 * Empty where no build put them in (Node's tests run the sources as they are): a runtime file of
 * unknown size then makes the load's total unknown, rather than wrong.
 */
declare const __ORT_RUNTIME_BYTES__: Readonly<Record<string, number>> | undefined;

export const ORT_RUNTIME_BYTES: Readonly<Record<string, number>> =
  typeof __ORT_RUNTIME_BYTES__ === 'object' && __ORT_RUNTIME_BYTES__ !== null ? __ORT_RUNTIME_BYTES__ : {};
