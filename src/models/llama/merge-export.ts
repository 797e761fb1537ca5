/**
 * `merge-qlora` end to end (Node): merge a PEFT LoRA adapter into a Hugging Face Llama, quantise to
 * 4 bits and write the folder transformers.js loads (see hf-folder.ts for the layout):
 *
 *   OUT/config.json, generation_config.json, tokenizer.json, tokenizer_config.json (from the base)
 *   OUT/classifier.json                          (from the adapter folder, when it has one)
 *   OUT/onnx/model_q4.onnx                       (MatMulNBits, 4 bits, blocks of 32)
 *   OUT/onnx/model.onnx                          (float32 reference, when asked or when it fits)
 *   OUT/model.safetensors                        (the merged weights, when asked: to serve with vLLM)
 *
 * Memory: tensors stream from the checkpoint one at a time (merge.ts); each linear weight is
 * quantised as it arrives and only its 4-bit form is kept, so the peak is about the size of the q4
 * file, not of the float model. Files are written under a temporary name and renamed when complete.
 */
import { copyFile, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fromHfConfig } from './config';
import { prettyJson } from './hf-folder';
import { openLoraMerge } from './merge';
import { nf4RoundTrip } from './nf4';
import { exportLlamaOnnx, isQ4Weight, type LlamaExportWeights } from './onnx-export';
import { q4Blocks, quantizeQ4, Q4_BLOCK_SIZE } from './quantize-q4';
import { llamaParameterShapes } from './reference';
import { exists, SafetensorsWriter, type WriteDtype } from './safetensors';

/** One ONNX protobuf file cannot exceed 2 GiB; bigger models need external data, which this writer does not produce. */
export const ONNX_FILE_LIMIT = 2 ** 31 - 64 * 2 ** 20;

const COPIED_FROM_BASE = ['generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'];

export interface MergeExportOptions {
  baseDir: string;
  adapterDir: string;
  outDir: string;
  /** Write onnx/model.onnx in float32 too: always, never, or (`auto`, the default) when it fits one file. */
  fp32?: boolean | 'auto';
  /** Also write the merged weights as OUT/model.safetensors in this dtype. */
  safetensors?: WriteDtype;
  /**
   * Merge into the base's linear layers as QLoRA saw them, i.e. after an NF4 round trip (blocks of
   * 64), as PEFT's `merge_and_unload` does on a model loaded in 4 bits, rather than into the
   * original weights. The adapter learnt against those weights; on a small model that matters.
   */
  baseNf4?: boolean;
  log?: (line: string) => void;
}

export interface MergeExportSummary {
  merged: readonly string[];
  tensors: number;
  scale: number;
  r: number;
  /** Paths written, relative to `outDir`, with their sizes in bytes. */
  files: { path: string; bytes: number }[];
  warnings: string[];
}

/** Writes `data` to `path` by way of `path.partial`, so a crash never leaves a half file under the real name. */
async function writeAtomically(path: string, data: Uint8Array | string): Promise<void> {
  await writeFile(`${path}.partial`, data);
  await rename(`${path}.partial`, path);
}

export async function mergeToTransformersJs(o: MergeExportOptions): Promise<MergeExportSummary> {
  const log = o.log ?? (() => undefined);
  const merge = await openLoraMerge({ baseDir: o.baseDir, adapterDir: o.adapterDir });
  const warnings = [...merge.warnings];
  let safetensors: SafetensorsWriter | undefined;
  const safetensorsPath = join(o.outDir, 'model.safetensors');
  try {
    const config = fromHfConfig(merge.baseConfig, join(o.baseDir, 'config.json'));
    const expected = llamaParameterShapes(config);
    const present = new Map(merge.tensors.map((t) => [t.name, t.shape]));
    for (const [name, shape] of Object.entries(expected)) {
      const got = present.get(name);
      if (!got) throw new Error(`the base has no tensor ${name}, which its config.json implies`);
      if (got.join() !== shape.join()) throw new Error(`base tensor ${name} has shape [${got}], its config.json implies [${shape}]`);
    }

    // Sizes before any work, so a model too big for one ONNX file fails in a second, not an hour.
    const count = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
    // A tied head is stored once more: transposed in the float32 graph, in 4 bits in the q4 one.
    const { vocab_size: vocab, hidden_size: hidden } = config;
    const tied = config.tie_word_embeddings;
    let q4Bytes = tied ? vocab * q4Blocks(hidden) * (Q4_BLOCK_SIZE / 2 + 4) : 0;
    let fp32Bytes = tied ? vocab * hidden * 4 : 0;
    for (const [name, shape] of Object.entries(expected)) {
      fp32Bytes += count(shape) * 4;
      q4Bytes += isQ4Weight(name) ? shape[0]! * q4Blocks(shape[1]!) * (Q4_BLOCK_SIZE / 2 + 4) : count(shape) * 4;
    }
    if (q4Bytes > ONNX_FILE_LIMIT) {
      throw new Error(
        `the q4 graph would take ${(q4Bytes / 2 ** 30).toFixed(2)} GiB, over the 2 GiB a single ONNX file can hold; ` +
          'this exporter does not write ONNX external data yet',
      );
    }
    const fp32 = o.fp32 === 'auto' || o.fp32 === undefined ? fp32Bytes <= ONNX_FILE_LIMIT : o.fp32;
    if (fp32 && fp32Bytes > ONNX_FILE_LIMIT) {
      throw new Error(`the float32 graph would take ${(fp32Bytes / 2 ** 30).toFixed(2)} GiB, over the 2 GiB limit of one ONNX file`);
    }
    if (!fp32) warnings.push(`onnx/model.onnx (float32) skipped: it would take ${(fp32Bytes / 2 ** 30).toFixed(2)} GiB`);

    await mkdir(join(o.outDir, 'onnx'), { recursive: true });
    if (o.safetensors) {
      safetensors = await SafetensorsWriter.create(`${safetensorsPath}.partial`, merge.tensors, {
        dtype: o.safetensors,
        metadata: { format: 'pt' },
      });
    }
    const q4Weights: LlamaExportWeights = {};
    const floatWeights: LlamaExportWeights = {};
    log(`merging ${merge.adapted.size} LoRA pairs (r=${merge.adapterConfig.r}, scale ${merge.scale}) into ${merge.tensors.length} tensors`);
    const transformBase = o.baseNf4
      ? (name: string, shape: readonly number[], data: Float32Array) =>
          isQ4Weight(name) && name !== 'lm_head.weight' ? nf4RoundTrip(data, [...shape]) : undefined
      : undefined;
    const summary = await merge.merge(
      async (name, shape, data) => {
        await safetensors?.write(name, data);
        if (!(name in expected)) return; // e.g. rotary caches some checkpoints carry
        const tensor = { shape: [...shape], data };
        if (isQ4Weight(name)) q4Weights[name] = quantizeQ4(data, [shape[0]!, shape[1]!]);
        else q4Weights[name] = tensor;
        if (fp32) floatWeights[name] = tensor;
      },
      { transformBase },
    );
    if (safetensors) {
      await safetensors.close();
      safetensors = undefined;
      await rename(`${safetensorsPath}.partial`, safetensorsPath);
    }

    const files: MergeExportSummary['files'] = [];
    const put = async (path: string, data: Uint8Array | string) => {
      await writeAtomically(join(o.outDir, path), data);
      files.push({ path, bytes: typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength });
    };
    log('writing onnx/model_q4.onnx');
    await put('onnx/model_q4.onnx', exportLlamaOnnx(config, q4Weights, { dtype: 'q4', metadata: { source: 'merge-qlora' } }));
    if (fp32) {
      log('writing onnx/model.onnx');
      await put('onnx/model.onnx', exportLlamaOnnx(config, floatWeights, { dtype: 'fp32', metadata: { source: 'merge-qlora' } }));
    }
    // transformers.js needs the head count and size of the cache spelled out; older configs omit them.
    const hfConfig = {
      ...merge.baseConfig,
      num_key_value_heads: config.num_key_value_heads,
      head_dim: config.head_dim,
      torch_dtype: 'float32',
    };
    await put('config.json', prettyJson(hfConfig));
    for (const file of COPIED_FROM_BASE) {
      if (await exists(join(o.baseDir, file))) {
        await copyFile(join(o.baseDir, file), join(o.outDir, file));
        files.push({ path: file, bytes: (await stat(join(o.outDir, file))).size });
      } else if (file === 'tokenizer.json')
        warnings.push(`the base has no tokenizer.json: transformers.js cannot load the output without one`);
    }
    const classifier = join(o.adapterDir, 'classifier.json');
    if (await exists(classifier)) await put('classifier.json', await readFile(classifier, 'utf8'));
    else warnings.push('the adapter folder has no classifier.json (labels and prompt): write one into the output before serving it');
    if (o.safetensors) files.push({ path: 'model.safetensors', bytes: (await stat(safetensorsPath)).size });
    return { merged: summary.merged, tensors: summary.tensors, scale: summary.scale, r: merge.adapterConfig.r, files, warnings };
  } catch (error) {
    await safetensors?.close().catch(() => undefined);
    await rm(`${safetensorsPath}.partial`, { force: true });
    throw error;
  } finally {
    await merge.close();
  }
}
