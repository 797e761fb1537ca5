/**
 * The Llama shapes a bank ships (Llama 3.2 1B and 3B, Llama 3.1 8B), and a random checkpoint of any
 * of them written the way Hugging Face and PEFT save one, for `npm run verify:llama` (scripts/verify-llama.ts):
 *
 *   BASE/config.json, generation_config.json, tokenizer.json, tokenizer_config.json
 *   BASE/model-0000i-of-0000n.safetensors (BF16, sharded) + model.safetensors.index.json
 *   ADAPTER/adapter_config.json (LoRA r=16, alpha 32, all seven projections), adapter_model.safetensors (F32),
 *   ADAPTER/classifier.json
 *
 * The weights are random (uniform, std 0.02 like Hugging Face's initialisation; LoRA B non-zero so
 * the merge does real work), so answers mean nothing: the point is sizes, memory and time. The
 * tokenizer and the prompt are the bundled demo's (a 2,002-word WordPiece vocabulary, ids below
 * every shape's vocabulary), so prompts and labels have realistic token counts; the model still has
 * the shape's full 128,256-row embedding table and output head.
 *
 * Memory: every tensor is generated and written a few million values at a time.
 */
import { copyFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { toHfConfig, toHfGenerationConfig, type LlamaConfig } from '../../models/llama/config';
import { prettyJson } from './hf-folder';
import { LLAMA_PROJECTIONS, peftLoraConfig, peftLoraName } from '../../models/llama/lora';
import { llamaParameterShapes } from '../../models/llama/reference';
import { INDEX_FILE, SafetensorsWriter, type TensorSpec } from './safetensors';
import { ConfigError } from '../../core/errors';

export const LLAMA_SHAPES = {
  'llama-3.2-1b': {
    vocab_size: 128256,
    hidden_size: 2048,
    intermediate_size: 8192,
    num_hidden_layers: 16,
    num_attention_heads: 32,
    num_key_value_heads: 8,
    head_dim: 64,
    rope_theta: 500000,
    rope_scaling: { factor: 32, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 },
    tie_word_embeddings: true,
  },
  'llama-3.2-3b': {
    vocab_size: 128256,
    hidden_size: 3072,
    intermediate_size: 8192,
    num_hidden_layers: 28,
    num_attention_heads: 24,
    num_key_value_heads: 8,
    head_dim: 128,
    rope_theta: 500000,
    rope_scaling: { factor: 32, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 },
    tie_word_embeddings: true,
  },
  'llama-3.1-8b': {
    vocab_size: 128256,
    hidden_size: 4096,
    intermediate_size: 14336,
    num_hidden_layers: 32,
    num_attention_heads: 32,
    num_key_value_heads: 8,
    head_dim: 128,
    rope_theta: 500000,
    rope_scaling: { factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 },
    tie_word_embeddings: false,
  },
} as const;
export type LlamaShapeName = keyof typeof LLAMA_SHAPES;

/** The demo's folder: its tokenizer, special token ids and classifier.json prompt serve the random models. */
const DEMO_DIR = 'public/models/llama-qlora';

export interface ShapeOverrides {
  /** Fewer layers than the shape has (e.g. 2 for a quick check at full width and vocabulary). */
  layers?: number;
  /** A smaller vocabulary (tests): at least the demo tokenizer's 2,002 ids. */
  vocab?: number;
}

/** The shape as a LlamaConfig, with the demo tokenizer's special ids (bos 2, eos 3, pad 0). */
export function shapeConfig(name: LlamaShapeName, overrides: ShapeOverrides = {}): LlamaConfig {
  const s = LLAMA_SHAPES[name];
  if (!s) throw new ConfigError(`unknown shape "${String(name)}"; one of ${Object.keys(LLAMA_SHAPES).join(', ')}`);
  const layers = overrides.layers ?? s.num_hidden_layers;
  if (!Number.isInteger(layers) || layers < 1) throw new ConfigError(`--layers must be a positive integer, got ${layers}`);
  return {
    ...s,
    rope_scaling: { ...s.rope_scaling },
    vocab_size: overrides.vocab ?? s.vocab_size,
    num_hidden_layers: layers,
    rms_norm_eps: 1e-5,
    max_position_embeddings: 131072,
    bos_token_id: 2,
    eos_token_id: 3,
    pad_token_id: 0,
  };
}

/** Parameter count of a shape (a tied head counted once). */
export function parameterCount(c: LlamaConfig): number {
  return Object.values(llamaParameterShapes(c)).reduce((sum, shape) => sum + shape.reduce((a, b) => a * b, 1), 0);
}

/** A small, fast generator (xorshift32), seeded per tensor, filling uniform values of a given std. */
function uniformFill(seed: number, std: number): (chunk: Float32Array) => void {
  let s = seed >>> 0 || 1;
  const half = std * Math.sqrt(3); // uniform in [-half, half] has this std
  return (chunk) => {
    for (let i = 0; i < chunk.length; i++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      chunk[i] = ((s >>> 0) / 2 ** 32 - 0.5) * 2 * half;
    }
  };
}

function seedOf(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return h >>> 0;
}

const elements = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

export interface CheckpointOptions {
  /** Shards of at most this many bytes (default 2 GiB; Hugging Face's own default is 5 GB). */
  shardBytes?: number;
  rank?: number;
  alpha?: number;
}

/** Writes BASE and ADAPTER (see the module comment). Returns the files written with their sizes. */
export async function writeRandomCheckpoint(
  config: LlamaConfig,
  baseDir: string,
  adapterDir: string,
  options: CheckpointOptions = {},
): Promise<{ path: string; bytes: number }[]> {
  const shardBytes = options.shardBytes ?? 2 * 2 ** 30;
  const r = options.rank ?? 16;
  const alpha = options.alpha ?? 32;
  const files: { path: string; bytes: number }[] = [];
  await mkdir(baseDir, { recursive: true });
  await mkdir(adapterDir, { recursive: true });

  await writeFile(join(baseDir, 'config.json'), prettyJson({ ...toHfConfig(config), torch_dtype: 'bfloat16' }));
  await writeFile(join(baseDir, 'generation_config.json'), prettyJson(toHfGenerationConfig(config)));
  for (const file of ['tokenizer.json', 'tokenizer_config.json']) await copyFile(join(DEMO_DIR, file), join(baseDir, file));

  // Shards in Hugging Face's order and naming, cut at tensor boundaries.
  const specs: TensorSpec[] = Object.entries(llamaParameterShapes(config)).map(([name, shape]) => ({ name, shape }));
  const shards: TensorSpec[][] = [[]];
  let size = 0;
  for (const spec of specs) {
    const bytes = elements(spec.shape) * 2;
    if (size > 0 && size + bytes > shardBytes) {
      shards.push([]);
      size = 0;
    }
    shards.at(-1)!.push(spec);
    size += bytes;
  }
  const weightMap: Record<string, string> = {};
  const pad = (n: number) => String(n).padStart(5, '0');
  let total = 0;
  for (let i = 0; i < shards.length; i++) {
    const file = shards.length === 1 ? 'model.safetensors' : `model-${pad(i + 1)}-of-${pad(shards.length)}.safetensors`;
    const writer = await SafetensorsWriter.create(join(baseDir, file), shards[i]!, { dtype: 'BF16', metadata: { format: 'pt' } });
    for (const spec of shards[i]!) {
      weightMap[spec.name] = file;
      const fill = spec.shape.length === 1 ? (chunk: Float32Array) => chunk.fill(1) : uniformFill(seedOf(spec.name), 0.02);
      await writer.writeGenerated(spec.name, (chunk) => fill(chunk));
      total += elements(spec.shape) * 2;
    }
    await writer.close();
    files.push({ path: join(baseDir, file), bytes: (await stat(join(baseDir, file))).size });
  }
  if (shards.length > 1) {
    await writeFile(join(baseDir, INDEX_FILE), prettyJson({ metadata: { total_size: total }, weight_map: weightMap }));
  }

  // The adapter: lora_A [r, in] and lora_B [out, r] for every projection of every layer, F32 as PEFT saves them.
  await writeFile(join(adapterDir, 'adapter_config.json'), prettyJson(peftLoraConfig(r, alpha, LLAMA_PROJECTIONS)));
  const adapterSpecs: TensorSpec[] = [];
  for (const spec of specs) {
    const match = /^(model\.layers\.\d+\.(?:self_attn|mlp)\.\w+_proj)\.weight$/.exec(spec.name);
    if (!match) continue;
    const [out, inDim] = spec.shape as [number, number];
    adapterSpecs.push(
      { name: peftLoraName(match[1]!, 'lora_A'), shape: [r, inDim] },
      { name: peftLoraName(match[1]!, 'lora_B'), shape: [out, r] },
    );
  }
  const adapter = await SafetensorsWriter.create(join(adapterDir, 'adapter_model.safetensors'), adapterSpecs, {
    metadata: { format: 'pt' },
  });
  for (const spec of adapterSpecs) {
    // A as PEFT initialises it (Kaiming-uniform, about 1/sqrt(in)); B small but non-zero, as after training.
    const std = spec.name.includes('lora_A') ? 1 / Math.sqrt(3 * spec.shape[1]!) : 0.002;
    const fill = uniformFill(seedOf(spec.name), std);
    await adapter.writeGenerated(spec.name, (chunk) => fill(chunk));
  }
  await adapter.close();
  files.push({
    path: join(adapterDir, 'adapter_model.safetensors'),
    bytes: (await stat(join(adapterDir, 'adapter_model.safetensors'))).size,
  });

  const demo = JSON.parse(await readFile(join(DEMO_DIR, 'classifier.json'), 'utf8')) as Record<string, unknown>;
  const { labels, prompt, separator, max_text_tokens } = demo;
  await writeFile(join(adapterDir, 'classifier.json'), prettyJson({ labels, prompt, separator, max_text_tokens }));
  return files;
}
