/**
 * `merge-qlora` end to end (Node): merge a PEFT LoRA adapter into a Hugging Face Llama, quantise to
 * 4 bits and write the folder transformers.js loads (see hf-folder.ts for the layout):
 *
 *   OUT/config.json, generation_config.json, tokenizer.json, tokenizer_config.json (from the base)
 *   OUT/classifier.json                      (from the adapter folder, `dtypes` set to the variants written)
 *   OUT/onnx/model_q4.onnx                   (MatMulNBits + GatherBlockQuantized, 4 bits, blocks of 32)
 *   OUT/onnx/model_q4f16.onnx                (the same with float16 scales and activations; default on)
 *   OUT/onnx/model.onnx                      (float32 reference, when asked or when it fits one file)
 *   OUT/onnx/model_*.onnx_data[_N]           (ONNX external data, when a graph would pass 2 GiB)
 *   OUT/model.safetensors                    (the merged weights, when asked: to serve them with vLLM)
 *
 * With external data, config.json gets `"transformers.js_config": {"use_external_data_format":
 * {"model_q4.onnx": <chunks>, ...}}`, which is how transformers.js 4.3 knows to fetch the data files.
 *
 * Memory: tensors stream from the checkpoint one at a time (merge.ts); each is merged, turned into
 * the bytes of every variant (quantised, transposed, ...), appended to that variant's data file and
 * dropped. Nothing grows with the model but the graph's description: the peak is about one float32
 * tensor (the largest, usually the embedding table) and what is derived from it. Each .onnx is
 * assembled at the end from those files (see onnx-writer.ts) and appears under its name only when
 * complete.
 */
import { copyFile, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fromHfConfig } from '../../models/llama/config';
import { prettyJson } from './hf-folder';
import { openLoraMerge } from './merge';
import { nf4RoundTrip } from '../../training/llama/nf4';
import { buildLlamaGraph, isQ4Weight, type EmbeddingStorage, type LlamaGraphPlan, type LlamaOnnxDtype } from './onnx-export';
import { ONNX_FILE_LIMIT, OnnxFileWriter } from './onnx-writer';
import { llamaParameterShapes } from '../../models/llama/reference';
import { exists, SafetensorsWriter, type WriteDtype } from './safetensors';
import { ModelFormatError } from '../../core/errors';

const COPIED_FROM_BASE = ['generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'];

/** The file transformers.js reads for a dtype, under onnx/. */
const ONNX_FILE: Record<LlamaOnnxDtype, string> = { q4: 'model_q4.onnx', q4f16: 'model_q4f16.onnx', fp32: 'model.onnx' };

export interface MergeExportOptions {
  baseDir: string;
  adapterDir: string;
  outDir: string;
  /** Write onnx/model.onnx in float32 too: always, never, or (`auto`, the default) when it fits one file. */
  fp32?: boolean | 'auto';
  /** Write onnx/model_q4f16.onnx (default true). */
  q4f16?: boolean;
  /** ONNX external data: always, never, or (`auto`, the default) for a graph that would pass 2 GiB. */
  externalData?: boolean | 'auto';
  /** The 4-bit variants' embedding table (default `auto`: 4 bits when hidden_size is a multiple of 32). */
  embedding?: EmbeddingStorage | 'auto';
  /** Also write the merged weights as OUT/model.safetensors in this dtype. */
  safetensors?: WriteDtype;
  /**
   * Merge into the base's linear layers as QLoRA saw them, i.e. after an NF4 round trip (blocks of
   * 64), as PEFT's `merge_and_unload` does on a model loaded in 4 bits, rather than into the
   * original weights. The adapter learnt against those weights; on a small model that matters.
   */
  baseNf4?: boolean;
  log?: (line: string) => void;
  /** After each tensor of the checkpoint is written (for progress and measurements). */
  onTensor?: (name: string, done: number, total: number) => void;
}

export interface MergeExportSummary {
  merged: readonly string[];
  tensors: number;
  scale: number;
  r: number;
  /** The ONNX variants written, in the order classifier.json lists them. */
  dtypes: LlamaOnnxDtype[];
  /** External data chunks per ONNX file that has them (`model_q4.onnx` → 1). */
  externalData: Record<string, number>;
  /** Paths written, relative to `outDir`, with their sizes in bytes. */
  files: { path: string; bytes: number }[];
  warnings: string[];
}

/** Writes `data` to `path` by way of `path.partial`, so a crash never leaves a half file under the real name. */
async function writeAtomically(path: string, data: Uint8Array | string): Promise<void> {
  await writeFile(`${path}.partial`, data);
  await rename(`${path}.partial`, path);
}

interface Variant {
  dtype: LlamaOnnxDtype;
  plan: LlamaGraphPlan;
  writer: OnnxFileWriter;
  external: boolean;
}

export async function mergeToTransformersJs(o: MergeExportOptions): Promise<MergeExportSummary> {
  const log = o.log ?? (() => undefined);
  const merge = await openLoraMerge({ baseDir: o.baseDir, adapterDir: o.adapterDir });
  const warnings = [...merge.warnings];
  let safetensors: SafetensorsWriter | undefined;
  const safetensorsPath = join(o.outDir, 'model.safetensors');
  const variants: Variant[] = [];
  try {
    const config = fromHfConfig(merge.baseConfig, join(o.baseDir, 'config.json'));
    const expected = llamaParameterShapes(config);
    const present = new Map(merge.tensors.map((t) => [t.name, t.shape]));
    for (const [name, shape] of Object.entries(expected)) {
      const got = present.get(name);
      if (!got) throw new ModelFormatError(`the base has no tensor ${name}, which its config.json implies`);
      if (got.join() !== shape.join())
        throw new ModelFormatError(`base tensor ${name} has shape [${got}], its config.json implies [${shape}]`);
    }
    const classifier = await readClassifier(o.adapterDir);

    // Every graph and its size before any work, so that a model that cannot be written fails in a second, not an hour.
    const externalData = o.externalData ?? 'auto';
    const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(2)} GiB`;
    const plan = (dtype: LlamaOnnxDtype) => {
      const p = buildLlamaGraph(config, { dtype, embedding: o.embedding, metadata: { source: 'merge-qlora' } });
      const writer = OnnxFileWriter.create(join(o.outDir, 'onnx', ONNX_FILE[dtype]), p.graph);
      const size = writer.singleFileBytes();
      return { dtype, plan: p, writer, size, external: externalData === 'auto' ? size > ONNX_FILE_LIMIT : externalData };
    };
    const candidates = [plan('q4'), ...(o.q4f16 === false ? [] : [plan('q4f16')])];
    const fp32Plan = o.fp32 === false ? undefined : plan('fp32');
    if (fp32Plan) {
      if (o.fp32 === 'auto' || o.fp32 === undefined) {
        if (fp32Plan.size <= ONNX_FILE_LIMIT) candidates.push(fp32Plan);
        else warnings.push(`onnx/model.onnx (float32) skipped: it would take ${gib(fp32Plan.size)}`);
      } else candidates.push(fp32Plan);
    }
    for (const v of candidates) {
      if (!v.external && v.size > ONNX_FILE_LIMIT) {
        throw new ModelFormatError(
          `onnx/${ONNX_FILE[v.dtype]} would take ${gib(v.size)}, over the 2 GiB a single ONNX file can hold; allow external data`,
        );
      }
      variants.push({ dtype: v.dtype, plan: v.plan, writer: v.writer, external: v.external });
      log(`onnx/${ONNX_FILE[v.dtype]}: ${gib(v.size)}${v.external ? ', as external data' : ''}`);
    }

    await mkdir(join(o.outDir, 'onnx'), { recursive: true });
    if (o.safetensors) {
      safetensors = await SafetensorsWriter.create(`${safetensorsPath}.partial`, merge.tensors, {
        dtype: o.safetensors,
        metadata: { format: 'pt' },
      });
    }
    log(`merging ${merge.adapted.size} LoRA pairs (r=${merge.adapterConfig.r}, scale ${merge.scale}) into ${merge.tensors.length} tensors`);
    const transformBase = o.baseNf4
      ? (name: string, shape: readonly number[], data: Float32Array) =>
          isQ4Weight(name) && name !== 'lm_head.weight' ? nf4RoundTrip(data, [...shape]) : undefined
      : undefined;
    let done = 0;
    const summary = await merge.merge(
      async (name, _shape, data) => {
        await safetensors?.write(name, data);
        if (name in expected) {
          // Each variant's bytes for this tensor, written and dropped before the next variant's.
          for (const v of variants) for (const w of v.plan.produce(name, data)) await v.writer.put(w.name, w.data);
        }
        o.onTensor?.(name, ++done, merge.tensors.length);
      },
      { transformBase },
    );
    if (safetensors) {
      await safetensors.close();
      safetensors = undefined;
      await rename(`${safetensorsPath}.partial`, safetensorsPath);
    }

    const files: MergeExportSummary['files'] = [];
    const relative = (path: string) => path.slice(o.outDir.length).replace(/^[/\\]+/, '');
    const chunks: Record<string, number> = {};
    for (const v of variants) {
      log(`writing onnx/${ONNX_FILE[v.dtype]}`);
      const written = await v.writer.finish(v.external);
      for (const f of written.files) files.push({ path: relative(f.path).replaceAll('\\', '/'), bytes: f.bytes });
      if (written.chunks > 0) chunks[basename(v.writer.path)] = written.chunks;
    }
    const put = async (path: string, data: Uint8Array | string) => {
      await writeAtomically(join(o.outDir, path), data);
      files.push({ path, bytes: typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength });
    };
    // transformers.js needs the head count and size of the cache spelled out; older configs omit them.
    const hfConfig: Record<string, unknown> = {
      ...merge.baseConfig,
      num_key_value_heads: config.num_key_value_heads,
      head_dim: config.head_dim,
      torch_dtype: 'float32',
    };
    const jsConfig = { ...((merge.baseConfig['transformers.js_config'] as Record<string, unknown> | undefined) ?? {}) };
    delete jsConfig.use_external_data_format;
    if (Object.keys(chunks).length > 0) jsConfig.use_external_data_format = chunks;
    if (Object.keys(jsConfig).length > 0) hfConfig['transformers.js_config'] = jsConfig;
    else delete hfConfig['transformers.js_config'];
    await put('config.json', prettyJson(hfConfig));
    for (const file of COPIED_FROM_BASE) {
      if (await exists(join(o.baseDir, file))) {
        await copyFile(join(o.baseDir, file), join(o.outDir, file));
        files.push({ path: file, bytes: (await stat(join(o.outDir, file))).size });
      } else if (file === 'tokenizer.json')
        warnings.push(`the base has no tokenizer.json: transformers.js cannot load the output without one`);
    }
    const dtypes = (['q4', 'q4f16', 'fp32'] as const).filter((d) => variants.some((v) => v.dtype === d));
    if (classifier) await put('classifier.json', prettyJson({ ...classifier, dtypes }));
    else warnings.push('the adapter folder has no classifier.json (labels and prompt): write one into the output before serving it');
    if (o.safetensors) files.push({ path: 'model.safetensors', bytes: (await stat(safetensorsPath)).size });
    return {
      merged: summary.merged,
      tensors: summary.tensors,
      scale: summary.scale,
      r: merge.adapterConfig.r,
      dtypes,
      externalData: chunks,
      files,
      warnings,
    };
  } catch (error) {
    await safetensors?.close().catch(() => undefined);
    await rm(`${safetensorsPath}.partial`, { force: true });
    await Promise.all(variants.map((v) => v.writer.abort().catch(() => undefined)));
    throw error;
  } finally {
    await merge.close();
  }
}

/** The adapter's classifier.json, parsed (undefined when there is none). */
async function readClassifier(adapterDir: string): Promise<Record<string, unknown> | undefined> {
  const path = join(adapterDir, 'classifier.json');
  if (!(await exists(path))) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new ModelFormatError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ModelFormatError(`${path} is not a JSON object`);
  return raw as Record<string, unknown>;
}
