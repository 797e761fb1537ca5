/**
 * Writes a Llama in the folder layout transformers.js loads for LlamaForCausalLM (Node only: it
 * uses the file system, which is why it is not in onnx-export.ts):
 *
 *   config.json, generation_config.json, onnx/model.onnx (dtype fp32), onnx/model_q4.onnx (dtype q4)
 *   and, when given, tokenizer.json + tokenizer_config.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { toHfConfig, toHfGenerationConfig, type LlamaConfig } from '../../models/llama/config';
import { exportLlamaOnnx } from './onnx-export';
import type { LlamaWeights } from '../../models/llama/reference';
import type { HfTokenizerFiles } from '../../tokenizer/hf-tokenizer';

/** JSON as Hugging Face writes its files: two-space indent, final newline. */
export const prettyJson = (value: unknown) => JSON.stringify(value, null, 2) + '\n';

/**
 * The small files of a Hugging Face Llama folder: config.json, generation_config.json and, when
 * given, tokenizer.json + tokenizer_config.json. Shared by this export and the training checkpoint.
 */
export async function writeHfMetadata(dir: string, config: LlamaConfig, tokenizer?: HfTokenizerFiles): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'config.json'), prettyJson(toHfConfig(config)));
  await writeFile(join(dir, 'generation_config.json'), prettyJson(toHfGenerationConfig(config)));
  if (tokenizer) {
    await writeFile(join(dir, 'tokenizer.json'), prettyJson(tokenizer.tokenizer));
    await writeFile(join(dir, 'tokenizer_config.json'), prettyJson(tokenizer.tokenizerConfig));
  }
}

export async function writeTransformersJsFolder(
  dir: string,
  config: LlamaConfig,
  weights: LlamaWeights,
  tokenizer?: HfTokenizerFiles,
): Promise<void> {
  await writeHfMetadata(dir, config, tokenizer);
  await mkdir(join(dir, 'onnx'), { recursive: true });
  await writeFile(join(dir, 'onnx', 'model.onnx'), exportLlamaOnnx(config, weights, { dtype: 'fp32' }));
  await writeFile(join(dir, 'onnx', 'model_q4.onnx'), exportLlamaOnnx(config, weights, { dtype: 'q4' }));
}
