/**
 * The two hand-offs of the demo's training, in the formats a bank's own pipeline produces, so the
 * demo goes through the same `merge-qlora` a bank runs:
 *   - the base model as a Hugging Face folder: config.json, generation_config.json,
 *     model.safetensors, tokenizer.json, tokenizer_config.json;
 *   - the QLoRA adapter as PEFT saves it: adapter_config.json, adapter_model.safetensors.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fromHfConfig, type LlamaConfig } from '../../models/llama/config';
import { prettyJson, writeHfMetadata } from '../../convert/llama/hf-folder';
import { peftLoraConfig, peftLoraName, type LlamaProjection } from '../../models/llama/lora';
import { llamaParameterShapes, type LlamaTensor, type LlamaWeights } from '../../models/llama/reference';
import { SafetensorsCheckpoint, SafetensorsWriter } from '../../convert/llama/safetensors';
import { toHfTokenizerFiles, wordPieceFromHfTokenizer } from '../../tokenizer/hf-tokenizer';
import type { WordPieceTokenizer } from '../../tokenizer/wordpiece';

async function writeSafetensors(path: string, tensors: Record<string, LlamaTensor>): Promise<void> {
  const entries = Object.entries(tensors);
  const writer = await SafetensorsWriter.create(
    path,
    entries.map(([name, t]) => ({ name, shape: t.shape })),
  );
  for (const [name, t] of entries) await writer.write(name, t.data instanceof Float32Array ? t.data : Float32Array.from(t.data));
  await writer.close();
}

export async function writeHfLlama(dir: string, config: LlamaConfig, weights: LlamaWeights, tokenizer: WordPieceTokenizer): Promise<void> {
  await writeHfMetadata(dir, config, toHfTokenizerFiles(tokenizer, config.max_position_embeddings));
  await writeSafetensors(join(dir, 'model.safetensors'), weights);
}

export interface HfLlama {
  config: LlamaConfig;
  weights: LlamaWeights;
  tokenizer: WordPieceTokenizer;
}

/** Reads back what `writeHfLlama` wrote (the tokenizer is rebuilt from tokenizer.json's vocabulary). */
export async function readHfLlama(dir: string): Promise<HfLlama> {
  const config = fromHfConfig(JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')), join(dir, 'config.json'));
  const tokenizer = wordPieceFromHfTokenizer(JSON.parse(await readFile(join(dir, 'tokenizer.json'), 'utf8')), join(dir, 'tokenizer.json'));
  const checkpoint = await SafetensorsCheckpoint.open(dir);
  try {
    const weights: LlamaWeights = {};
    for (const t of checkpoint.listTensors()) weights[t.name] = { shape: [...t.shape], data: await checkpoint.readTensor(t.name) };
    return { config, weights, tokenizer };
  } finally {
    await checkpoint.close();
  }
}

/**
 * A PEFT adapter of rank 1 whose A and B are zeros: merging it changes nothing but the route the
 * weights take (NF4, q4), so the base alone can be measured exactly as the merged model is.
 */
export async function writeZeroAdapter(dir: string, config: LlamaConfig, targetModules: readonly LlamaProjection[]): Promise<void> {
  const tensors: Record<string, LlamaTensor> = {};
  for (const [name, [rows, cols]] of Object.entries(llamaParameterShapes(config))) {
    const module = name.replace(/\.weight$/, '');
    if (!targetModules.some((m) => module.endsWith(`.${m}`))) continue;
    tensors[peftLoraName(module, 'lora_A')] = { shape: [1, cols!], data: new Float32Array(cols!) };
    tensors[peftLoraName(module, 'lora_B')] = { shape: [rows!, 1], data: new Float32Array(rows!) };
  }
  await writePeftAdapter(dir, peftLoraConfig(1, 1, targetModules), tensors);
}

export async function writePeftAdapter(
  dir: string,
  adapterConfig: Record<string, unknown>,
  adapter: Record<string, LlamaTensor>,
): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'adapter_config.json'), prettyJson(adapterConfig));
  await writeSafetensors(join(dir, 'adapter_model.safetensors'), adapter);
}
