/**
 * The on-device models in Node: the same engines as the browser's workers, called in this
 * process (onnxruntime-node for the custom model; transformers.js on the CPU for the Llama, its
 * code loaded only when the Llama is used).
 */
import { NodeCustomAdapter } from '../adapters/custom-node';
import { LazyAdapter } from '../adapters/lazy-adapter';
import type { RuntimeHosts } from './intent-runtime';

export interface NodeHostOptions {
  /** The custom model's folder (config.json, tokenizer.json, spelling.json, onnx/model.onnx, manifest.json). */
  modelDir?: string;
  /** The llama-qlora model's folder (with classifier.json). */
  llamaDir?: string;
}

export function nodeHosts(options: NodeHostOptions = {}): RuntimeHosts {
  return {
    custom: () => new NodeCustomAdapter(options.modelDir),
    llama: () =>
      new LazyAdapter('llama-qlora', async () => {
        const { NodeLlamaAdapter } = await import('../adapters/llama-node');
        return new NodeLlamaAdapter({ modelDir: options.llamaDir });
      }),
  };
}
