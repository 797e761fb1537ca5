/**
 * Writes a Llama in the folder layout transformers.js loads for LlamaForCausalLM (Node only: it
 * uses the file system, which is why it is not in onnx-export.ts):
 *
 *   config.json, generation_config.json, onnx/model.onnx (dtype fp32), onnx/model_q4.onnx (dtype q4)
 *   and, when given, tokenizer.json + tokenizer_config.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { toHfConfig, toHfGenerationConfig, type LlamaConfig } from './config';
import { exportLlamaOnnx } from './onnx-export';
import type { LlamaWeights } from './reference';
import type { HfTokenizerFiles } from '../../tokenizer/hf-tokenizer';

const json = (value: unknown) => JSON.stringify(value, null, 2) + '\n';

export async function writeTransformersJsFolder(
  dir: string,
  config: LlamaConfig,
  weights: LlamaWeights,
  tokenizer?: HfTokenizerFiles,
): Promise<void> {
  await mkdir(join(dir, 'onnx'), { recursive: true });
  await writeFile(join(dir, 'config.json'), json(toHfConfig(config)));
  await writeFile(join(dir, 'generation_config.json'), json(toHfGenerationConfig(config)));
  await writeFile(join(dir, 'onnx', 'model.onnx'), exportLlamaOnnx(config, weights, { dtype: 'fp32' }));
  await writeFile(join(dir, 'onnx', 'model_q4.onnx'), exportLlamaOnnx(config, weights, { dtype: 'q4' }));
  if (tokenizer) {
    await writeFile(join(dir, 'tokenizer.json'), json(tokenizer.tokenizer));
    await writeFile(join(dir, 'tokenizer_config.json'), json(tokenizer.tokenizerConfig));
  }
}
