/** The llama-qlora model in a dedicated worker: the engine host from src/engine, exposed with comlink. */
import * as transformers from '@huggingface/transformers';
import { expose } from 'comlink';
import { createLlamaWorkerHost } from '../src/engine/llama-worker-host';
import { installTypedErrors } from '../src/engine/worker-errors';

installTypedErrors();
expose(createLlamaWorkerHost(transformers));
