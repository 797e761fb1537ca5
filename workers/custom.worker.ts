/** The custom model in a dedicated worker: the engine host from src/engine, exposed with comlink. */
import { expose } from 'comlink';
import * as ort from 'onnxruntime-web/webgpu';
import { installTypedErrors } from '../src/engine/worker-errors';
import { createWorkerHost } from '../src/engine/worker-host';

installTypedErrors();
expose(createWorkerHost(ort));
