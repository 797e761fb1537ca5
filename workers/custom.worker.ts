/** The custom model in a dedicated worker: the engine host from src/engine, exposed with comlink. */
import { expose } from 'comlink';
import { installTypedErrors } from '../src/engine/worker-errors';
import { createWorkerHost } from '../src/engine/custom-worker-host';

installTypedErrors();
// Each build is imported (and its runtime downloaded) only when its provider is tried.
expose(createWorkerHost({ webgpu: () => import('onnxruntime-web/webgpu'), wasm: () => import('onnxruntime-web/wasm') }));
