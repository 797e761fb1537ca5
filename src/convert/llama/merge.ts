/**
 * Merges a PEFT LoRA (or QLoRA) adapter into a Hugging Face Llama checkpoint, one tensor at a time.
 *
 * For every adapted projection `W` ([out, in]) the adapter holds `lora_A` ([r, in]) and `lora_B`
 * ([out, r]); the merged weight is `W + scale * B @ A`, with `scale = lora_alpha / r`, or
 * `lora_alpha / sqrt(r)` under rsLoRA (`use_rslora`). Every other tensor passes through unchanged.
 *
 * Names: PEFT saves `base_model.model.<module path>.lora_A.weight`; the base tensor is
 * `<module path>.weight` (e.g. `model.layers.0.self_attn.q_proj.weight`).
 *
 * Everything is checked before the first tensor is produced, so a bad adapter fails before any
 * output is written. Memory: one base tensor (as float32) plus its A and B at a time.
 *
 * `openLoraMerge` gives the tensor list (names and shapes) before streaming, which a writer that puts
 * its header first needs; `mergeLora` is the one-call form.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelFileError } from '../../core/errors';
import { LLAMA_PROJECTIONS, PEFT_PREFIX, type LlamaProjection } from '../../models/llama/lora';
import { exists, SafetensorsCheckpoint, SafetensorsFile, type TensorInfo, type TensorSpec } from './safetensors';

const ADAPTER_CONFIG = 'adapter_config.json';
const ADAPTER_WEIGHTS = 'adapter_model.safetensors';

/** A LoRA adapter that does not fit the base model. `tensor` names the tensor at fault, when there is one. */
export class LoraMergeError extends ModelFileError {
  constructor(
    message: string,
    file: string,
    readonly tensor?: string,
  ) {
    super({ message, file });
    this.name = 'LoraMergeError';
  }
}

export interface LoraAdapterConfig {
  readonly r: number;
  readonly loraAlpha: number;
  readonly useRslora: boolean;
  readonly targetModules: readonly LlamaProjection[];
  /** As saved; PEFT turns it off for nn.Linear (all Llama projections), and so does the merge. */
  readonly fanInFanOut: boolean;
}

export interface MergedTensorSink {
  (name: string, shape: readonly number[], data: Float32Array): void | Promise<void>;
}

export interface LoraMergeOptions {
  readonly baseDir: string;
  readonly adapterDir: string;
}

export interface LoraMergeSummary {
  /** Base tensor names that received a LoRA delta. */
  readonly merged: readonly string[];
  readonly tensors: number;
  readonly scale: number;
}

/** Parses `adapter_config.json`, refusing what this merge cannot do faithfully. */
export function parseAdapterConfig(raw: unknown, file: string): LoraAdapterConfig {
  const fail = (why: string) => new LoraMergeError(`${file}: ${why}`, file);
  if (typeof raw !== 'object' || raw === null) throw fail('not a JSON object');
  const c = raw as Record<string, unknown>;
  if (c.peft_type !== undefined && c.peft_type !== 'LORA')
    throw fail(`peft_type is ${String(c.peft_type)}; only LORA adapters can be merged`);
  const r = c.r;
  if (typeof r !== 'number' || !Number.isInteger(r) || r <= 0) throw fail(`"r" must be a positive integer, got ${JSON.stringify(r)}`);
  const alpha = c.lora_alpha ?? 8; // PEFT's default
  if (typeof alpha !== 'number' || !Number.isFinite(alpha)) throw fail(`"lora_alpha" must be a number, got ${JSON.stringify(alpha)}`);
  if (c.use_dora === true) throw fail('DoRA adapters (use_dora: true) are not supported');
  for (const key of ['rank_pattern', 'alpha_pattern']) {
    const pattern = c[key];
    if (pattern && typeof pattern === 'object' && Object.keys(pattern).length > 0) {
      throw fail(`per-module "${key}" is not supported; every module must use r=${r}, lora_alpha=${alpha}`);
    }
  }
  let targets = c.target_modules;
  if (targets === 'all-linear') targets = [...LLAMA_PROJECTIONS];
  else if (typeof targets === 'string') {
    if (!(LLAMA_PROJECTIONS as readonly string[]).includes(targets)) {
      throw fail(`target_modules "${targets}" is a pattern; list the projections instead (${LLAMA_PROJECTIONS.join(', ')})`);
    }
    targets = [targets];
  }
  if (!Array.isArray(targets) || targets.length === 0) throw fail('"target_modules" must be a non-empty list');
  for (const t of targets) {
    if (!(LLAMA_PROJECTIONS as readonly unknown[]).includes(t)) {
      throw fail(`unknown target module "${String(t)}"; a Llama LoRA can target only ${LLAMA_PROJECTIONS.join(', ')}`);
    }
  }
  return {
    r,
    loraAlpha: alpha,
    useRslora: c.use_rslora === true,
    targetModules: targets as LlamaProjection[],
    fanInFanOut: c.fan_in_fan_out === true,
  };
}

export function loraScale(config: LoraAdapterConfig): number {
  return config.useRslora ? config.loraAlpha / Math.sqrt(config.r) : config.loraAlpha / config.r;
}

interface LoraPair {
  readonly base: TensorInfo;
  readonly a: TensorInfo;
  readonly b: TensorInfo;
}

export interface MergeStreamOptions {
  /**
   * Applied to each base tensor before its delta is added (return undefined to keep it): e.g. an
   * NF4 round trip of the linear layers, to merge into the weights a QLoRA adapter was trained on.
   */
  transformBase?: (name: string, shape: readonly number[], data: Float32Array) => Float32Array | undefined;
}

/** An open merge: the tensor list is known, nothing is streamed until `merge`. Close it when done. */
export interface LoraMerge {
  /** The base model's config.json, parsed. */
  readonly baseConfig: Readonly<Record<string, unknown>>;
  readonly adapterConfig: LoraAdapterConfig;
  readonly scale: number;
  /** Output tensors, in the base's order, with their shapes. */
  readonly tensors: readonly TensorSpec[];
  /** Base tensor name to the adapter's A and B for it. */
  readonly adapted: ReadonlyMap<string, { a: string; b: string }>;
  /** Notes for the user (e.g. a fan_in_fan_out flag that was ignored). */
  readonly warnings: readonly string[];
  /** Calls `sink` once per tensor, in order, with the merged float32 data. */
  merge(sink: MergedTensorSink, options?: MergeStreamOptions): Promise<LoraMergeSummary>;
  close(): Promise<void>;
}

/** Opens the base and the adapter and checks that they fit; throws `LoraMergeError` naming the tensor when not. */
export async function openLoraMerge({ baseDir, adapterDir }: LoraMergeOptions): Promise<LoraMerge> {
  const baseConfigPath = join(baseDir, 'config.json');
  const baseConfig = (await readJson(baseConfigPath)) as Record<string, unknown>;
  const adapterConfigPath = join(adapterDir, ADAPTER_CONFIG);
  const adapterConfig = parseAdapterConfig(await readJson(adapterConfigPath), adapterConfigPath);
  const adapterPath = join(adapterDir, ADAPTER_WEIGHTS);
  if (!(await exists(adapterPath)) && (await exists(join(adapterDir, 'adapter_model.bin')))) {
    throw new LoraMergeError(
      `${adapterDir} holds adapter_model.bin (pickle); save the adapter with safe_serialization=True to get ${ADAPTER_WEIGHTS}`,
      adapterPath,
    );
  }

  const base = await SafetensorsCheckpoint.open(baseDir);
  let adapter: SafetensorsFile | undefined;
  try {
    adapter = await SafetensorsFile.open(adapterPath);
    const warnings: string[] = [];
    if (adapterConfig.fanInFanOut) {
      warnings.push('adapter_config.json sets fan_in_fan_out, but Llama projections are nn.Linear ([out, in]); ignored, as PEFT does');
    }
    checkEmbeddings(base, baseConfig, baseDir);
    const pairs = pairAdapterTensors(adapter, base, adapterConfig, adapterPath);
    const openAdapter = adapter;
    const scale = loraScale(adapterConfig);
    const tensors = base.listTensors().map((t) => ({ name: t.name, shape: t.shape }));
    return {
      baseConfig,
      adapterConfig,
      scale,
      tensors,
      warnings,
      adapted: new Map([...pairs].map(([name, p]) => [name, { a: p.a.name, b: p.b.name }])),
      async merge(sink, options = {}) {
        const merged: string[] = [];
        for (const { name, shape } of tensors) {
          const raw = await base.readTensor(name);
          const data = options.transformBase?.(name, shape, raw) ?? raw;
          const pair = pairs.get(name);
          if (pair) {
            const [a, b] = [await openAdapter.readTensor(pair.a.name), await openAdapter.readTensor(pair.b.name)];
            addLoraDelta(data, a, b, shape[0]!, shape[1]!, adapterConfig.r, scale);
            merged.push(name);
          }
          await sink(name, shape, data);
        }
        return { merged, tensors: tensors.length, scale };
      },
      async close() {
        await Promise.all([base.close(), openAdapter.close()]);
      },
    };
  } catch (error) {
    await Promise.all([base.close(), adapter?.close()]);
    throw error;
  }
}

/** Opens, streams every merged tensor to `onTensor` in the base's order, and closes. */
export async function mergeLora(options: LoraMergeOptions & { onTensor: MergedTensorSink }): Promise<LoraMergeSummary> {
  const merge = await openLoraMerge(options);
  try {
    return await merge.merge(options.onTensor);
  } finally {
    await merge.close();
  }
}

/** `w[out, in] += scale * b[out, r] @ a[r, in]`, each row summed in float64 and rounded to float32 once. */
export function addLoraDelta(
  w: Float32Array,
  a: Float32Array,
  b: Float32Array,
  out: number,
  inDim: number,
  r: number,
  scale: number,
): void {
  const row = new Float64Array(inDim);
  for (let o = 0; o < out; o++) {
    row.fill(0);
    let k = 0;
    // Four ranks per pass over the row (a billion weights in a 1B model: the row's loads and stores dominate).
    for (; k + 4 <= r; k += 4) {
      const [b0, b1, b2, b3] = [b[o * r + k]!, b[o * r + k + 1]!, b[o * r + k + 2]!, b[o * r + k + 3]!];
      if (b0 === 0 && b1 === 0 && b2 === 0 && b3 === 0) continue;
      const [a0, a1, a2, a3] = [k * inDim, (k + 1) * inDim, (k + 2) * inDim, (k + 3) * inDim];
      for (let i = 0; i < inDim; i++) row[i]! += b0 * a[a0 + i]! + b1 * a[a1 + i]! + b2 * a[a2 + i]! + b3 * a[a3 + i]!;
    }
    for (; k < r; k++) {
      const bk = b[o * r + k]!;
      if (bk === 0) continue;
      const aRow = k * inDim;
      for (let i = 0; i < inDim; i++) row[i]! += bk * a[aRow + i]!;
    }
    const wRow = o * inDim;
    for (let i = 0; i < inDim; i++) w[wRow + i] = w[wRow + i]! + scale * row[i]!;
  }
}

/** Tied embeddings: no `lm_head.weight` is needed (the output reuses embed_tokens). Untied: it must be there. */
function checkEmbeddings(base: SafetensorsCheckpoint, config: Record<string, unknown>, baseDir: string): void {
  const embed = 'model.embed_tokens.weight';
  if (!base.has(embed)) throw new LoraMergeError(`base checkpoint ${baseDir} has no "${embed}"; is it a Llama checkpoint?`, baseDir, embed);
  // LlamaConfig's default is untied.
  if (config.tie_word_embeddings !== true && !base.has('lm_head.weight')) {
    throw new LoraMergeError(
      `base checkpoint ${baseDir} has no "lm_head.weight", and config.json does not set tie_word_embeddings: true`,
      baseDir,
      'lm_head.weight',
    );
  }
}

/** Maps every adapter tensor to its base tensor and checks names, shapes and the rank. */
function pairAdapterTensors(
  adapter: SafetensorsFile,
  base: SafetensorsCheckpoint,
  config: LoraAdapterConfig,
  adapterPath: string,
): Map<string, LoraPair> {
  const fail = (tensor: string, why: string) => new LoraMergeError(`adapter tensor "${tensor}": ${why}`, adapterPath, tensor);
  const halves = new Map<string, { a?: TensorInfo; b?: TensorInfo }>();
  for (const info of adapter.tensors) {
    const match = /^(.*)\.lora_([AB])\.weight$/.exec(info.name);
    if (!match || !info.name.startsWith(PEFT_PREFIX)) {
      throw fail(info.name, `not a LoRA weight (expected "${PEFT_PREFIX}<module>.lora_A.weight" or ".lora_B.weight")`);
    }
    const modulePath = match[1]!.slice(PEFT_PREFIX.length);
    const projection = modulePath.slice(modulePath.lastIndexOf('.') + 1);
    if (!(config.targetModules as readonly string[]).includes(projection)) {
      throw fail(info.name, `module "${projection}" is not among target_modules (${config.targetModules.join(', ')})`);
    }
    const baseName = `${modulePath}.weight`;
    const entry = halves.get(baseName) ?? {};
    entry[match[2] === 'A' ? 'a' : 'b'] = info;
    halves.set(baseName, entry);
  }
  if (halves.size === 0) throw new LoraMergeError(`${adapterPath} holds no LoRA weights`, adapterPath);

  const pairs = new Map<string, LoraPair>();
  for (const [baseName, { a, b }] of halves) {
    const present = (a ?? b)!;
    const baseInfo = base.info(baseName);
    if (!baseInfo) throw fail(present.name, `no base tensor "${baseName}" in ${base.dir}`);
    if (!a) throw fail(present.name, `lora_A for "${baseName}" is missing`);
    if (!b) throw fail(present.name, `lora_B for "${baseName}" is missing`);
    if (baseInfo.shape.length !== 2)
      throw fail(a.name, `base tensor "${baseName}" has shape [${baseInfo.shape.join(', ')}], not [out, in]`);
    const [out, inDim] = baseInfo.shape as [number, number];
    const r = config.r;
    const shapeIs = (info: TensorInfo, want: number[]) => info.shape.length === want.length && info.shape.every((d, i) => d === want[i]);
    if (!shapeIs(a, [r, inDim])) {
      throw fail(a.name, `shape [${a.shape.join(', ')}], expected [r=${r}, in=${inDim}] for base "${baseName}" [${out}, ${inDim}]`);
    }
    if (!shapeIs(b, [out, r])) {
      throw fail(b.name, `shape [${b.shape.join(', ')}], expected [out=${out}, r=${r}] for base "${baseName}" [${out}, ${inDim}]`);
    }
    pairs.set(baseName, { base: baseInfo, a, b });
  }
  return pairs;
}

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ModelFileError({ message: `cannot read ${path}: ${(error as Error).message}`, file: path, cause: error });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ModelFileError({ message: `${path} is not valid JSON: ${(error as Error).message}`, file: path, cause: error });
  }
}
