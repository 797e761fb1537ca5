/** The llama-qlora model in a dedicated worker: the engine host from src/engine, exposed with comlink. */
import * as transformers from '@huggingface/transformers';
import { expose } from 'comlink';
import { createLlamaWorkerHost } from '../src/engine/llama-worker-host';
import { installTypedErrors } from '../src/engine/worker-errors';

// transformers.js would keep the model files in a cache of its own ("transformers-cache") and
// serve them from there first, forever: a new model under the same names would never be seen.
// The site's service worker caches them instead, by content revision.
transformers.env.useBrowserCache = false;

installTypedErrors();
expose(createLlamaWorkerHost(transformers));
