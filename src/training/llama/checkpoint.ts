/**
 * The two hand-offs of the demo's training, in the formats a bank's own pipeline produces, so the
 * demo goes through the same `merge-qlora` a bank runs:
 *   - the base model as a Hugging Face folder: config.json, generation_config.json,
 *     model.safetensors, tokenizer.json, tokenizer_config.json;
 *   - the QLoRA adapter as PEFT saves it: adapter_config.json, adapter_model.safetensors.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fromHfConfig, toHfConfig, toHfGenerationConfig, type LlamaConfig } from '../../models/llama/config';
import type { LlamaTensor, LlamaWeights } from '../../models/llama/reference';
import { SafetensorsCheckpoint, SafetensorsWriter } from '../../models/llama/safetensors';
import { toHfTokenizerFiles } from '../../tokenizer/hf-tokenizer';
import { WordPieceTokenizer } from '../../tokenizer/wordpiece';

const json = (value: unknown) => JSON.stringify(value, null, 2) + '\n';

export async function writeSafetensors(path: string, tensors: Record<string, LlamaTensor>): Promise<void> {
  const entries = Object.entries(tensors);
  const writer = await SafetensorsWriter.create(
    path,
    entries.map(([name, t]) => ({ name, shape: t.shape })),
  );
  for (const [name, t] of entries) await writer.write(name, t.data instanceof Float32Array ? t.data : Float32Array.from(t.data));
  await writer.close();
}

export async function writeHfLlama(dir: string, config: LlamaConfig, weights: LlamaWeights, tokenizer: WordPieceTokenizer): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'config.json'), json(toHfConfig(config)));
  await writeFile(join(dir, 'generation_config.json'), json(toHfGenerationConfig(config)));
  const files = toHfTokenizerFiles(tokenizer, config.max_position_embeddings);
  await writeFile(join(dir, 'tokenizer.json'), json(files.tokenizer));
  await writeFile(join(dir, 'tokenizer_config.json'), json(files.tokenizerConfig));
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
  const tokenizerJson = JSON.parse(await readFile(join(dir, 'tokenizer.json'), 'utf8')) as { model?: { vocab?: Record<string, number> } };
  const vocabMap = tokenizerJson.model?.vocab;
  if (!vocabMap) throw new Error(`${dir}/tokenizer.json has no WordPiece vocabulary`);
  const vocab: string[] = [];
  for (const [token, id] of Object.entries(vocabMap)) vocab[id] = token;
  const tokenizer = new WordPieceTokenizer({ type: 'wordpiece', version: 1, vocab });
  const checkpoint = await SafetensorsCheckpoint.open(dir);
  try {
    const weights: LlamaWeights = {};
    for (const t of checkpoint.listTensors()) weights[t.name] = { shape: [...t.shape], data: await checkpoint.readTensor(t.name) };
    return { config, weights, tokenizer };
  } finally {
    await checkpoint.close();
  }
}

export async function writePeftAdapter(
  dir: string,
  adapterConfig: Record<string, unknown>,
  adapter: Record<string, LlamaTensor>,
): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'adapter_config.json'), json(adapterConfig));
  await writeSafetensors(join(dir, 'adapter_model.safetensors'), adapter);
}
