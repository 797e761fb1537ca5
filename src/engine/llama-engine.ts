/**
 * The fine-tuned Llama (QLoRA, merged and quantised) as a classifier, on transformers.js. Like the
 * custom engine it knows nothing about workers: `workers/llama.worker.ts` exposes it to a page
 * through `llama-worker-host.ts`, and `src/adapters/llama-node.ts` runs it in Node on the CPU.
 * The transformers.js module is passed in, so the caller picks the build (Node or web).
 *
 * The model folder is what transformers.js loads for LlamaForCausalLM (config.json,
 * generation_config.json, tokenizer.json, tokenizer_config.json, onnx/model_q4.onnx, ...; see
 * src/convert/llama/hf-folder.ts) plus `manifest.json` (see model-manifest.ts: when the folder has
 * one, every file transformers.js reads is checked against it first) and one file of ours,
 * `classifier.json`:
 *
 *   {
 *     "labels": ["activate_my_card", "age_limit", ...],   // what the model may answer, non-empty, unique
 *     "prompt": "Classify the banking message.\nMessage: {text}\nIntent:",  // must contain {text} once
 *     "separator": " ",          // optional: what stands between the prompt and the label (default " ")
 *     "max_text_tokens": 256,    // optional: longer messages keep only their first N tokens (default 256)
 *     "dtypes": ["q4", "fp32"],  // optional: the onnx/ variants in the folder (default ["q4", "fp32"])
 *     "oos_threshold": 0.4       // optional: default out-of-scope threshold (see core/out-of-scope.ts)
 *   }
 *
 * A model that can say "none of these" lists `out_of_scope` among its labels: it is one more path
 * in the label trie, and the same threshold rule as the custom model's decides.
 *
 * The label is generated right after `prompt` + `separator` under a label constraint
 * (src/engine/llama-constrained-decoding.ts), so the answer is always one of `labels`.
 */
import { Tensor, type PreTrainedModel, type PreTrainedTokenizer } from '@huggingface/transformers';
import type { EngineClassifyOptions, LoadProgress } from '../core/adapter';
import { OUT_OF_SCOPE } from '../core/labels';
import { decide, effectiveThreshold } from '../core/out-of-scope';
import { ModelFileError, ModelUnavailableError } from '../core/errors';
import type { ModelPrediction } from '../core/prediction';
import { classifyWithLlama } from './llama-constrained-decoding';
import { DEFAULT_TOP_K } from '../core/config';
import {
  firstNonFinite,
  manifestMismatch,
  MODEL_MANIFEST_FILE,
  ModelIntegrityError,
  nonFiniteOutputError,
  parseModelManifest,
  verifyModelFile,
  type ModelManifest,
} from './model-manifest';
import { MissingModelFileError } from './model-source';

export const LLAMA_MODEL_ID = 'llama-qlora';
export const CLASSIFIER_FILE = 'classifier.json';

export type LlamaDevice = 'webgpu' | 'wasm' | 'cpu';
export type LlamaDtype = 'q4' | 'fp32' | 'q4f16';

/** The contents of `classifier.json`, validated. */
export interface ClassifierSpec {
  labels: string[];
  /** Contains `{text}` exactly once. */
  prompt: string;
  separator: string;
  maxTextTokens: number;
  dtypes: LlamaDtype[];
  /** Default out-of-scope threshold; 0 when the file has none. */
  oosThreshold: number;
}

/** What the engine needs from `@huggingface/transformers` (the module itself satisfies it). */
export interface TransformersModule {
  env: {
    allowRemoteModels: boolean;
    allowLocalModels: boolean;
    localModelPath: string;
    remoteHost?: string;
    remotePathTemplate?: string;
    backends: { onnx: { wasm?: { wasmPaths?: unknown } } };
    /** Set while loading, so that transformers.js reads the files through the manifest check. */
    useCustomCache: boolean;
    customCache: unknown;
  };
  AutoTokenizer: { from_pretrained(id: string, options?: object): Promise<PreTrainedTokenizer> };
  AutoModelForCausalLM: { from_pretrained(id: string, options?: object): Promise<PreTrainedModel> };
}

/** The part of a WebGPU adapter the device policy reads. */
export interface GpuAdapterLike {
  features: { has(feature: string): boolean };
}

export interface LlamaLoadOptions {
  transformers: TransformersModule;
  /** The model folder: a URL (`https://…/models/llama-qlora/`, `/models/llama-qlora`) or a directory. */
  modelPath: string;
  /** `cpu` in Node; `webgpu` (or `wasm`, chosen explicitly) in a browser. */
  device: LlamaDevice;
  /**
   * Omitted: q4f16 where the GPU has `shader-f16` and the folder has that variant, else q4. A
   * requested q4f16 also becomes q4 without `shader-f16` (it fails or computes garbage there).
   */
  dtype?: LlamaDtype;
  /** With `device: 'webgpu'` and no WebGPU adapter, run on WASM instead of failing. Default false. */
  allowWasm?: boolean;
  /** Our own copy of the onnxruntime-web files (browser only; the default is a CDN). */
  wasmPaths?: string;
  /** `navigator.gpu` in a browser; needed for `device: 'webgpu'`. */
  gpu?: { requestAdapter(): Promise<GpuAdapterLike | null> };
  /** Reads a text file of the folder by its full path or URL; default `fetch`. Node passes a file reader. */
  readText?: (location: string) => Promise<string>;
  /**
   * Reads a file of the folder as bytes, for the check against `manifest.json`; default `fetch`.
   * Node passes a file reader. When given, classifier.json and the manifest are read with it too.
   */
  readBytes?: (location: string) => Promise<Uint8Array>;
  /**
   * Whether a folder without `manifest.json` is refused. A manifest that is there is always
   * checked: every file transformers.js reads from the folder is verified before it gets it.
   */
  requireManifest?: boolean;
  onProgress?: (progress: LoadProgress) => void;
}

/**
 * The folder's `manifest.json`, or undefined when it has none and none is required. A manifest
 * that is there but unreadable or corrupt is an error either way.
 */
async function readManifest(folder: string, read: (location: string) => Promise<Uint8Array>, required: boolean) {
  let content: Uint8Array;
  try {
    content = await read(folder + MODEL_MANIFEST_FILE);
  } catch (error) {
    if (isMissing(error) && !required) return undefined;
    throw new ModelIntegrityError({
      message: `Model file ${MODEL_MANIFEST_FILE} is ${isMissing(error) ? 'missing' : 'unreadable'} (${(error as Error).message}): without it the model files cannot be checked. Rebuild the model, or run \`npm run models:manifest\` for a folder you trust.`,
      file: MODEL_MANIFEST_FILE,
      cause: error,
    });
  }
  return parseModelManifest(content);
}

/** Where a model folder path splits into what transformers.js calls the local root and the model id. */
function splitModelPath(modelPath: string): { root: string; id: string } {
  const trimmed = modelPath.replace(/[/\\]+$/, '');
  const cut = Math.max(trimmed.lastIndexOf('/'), trimmed.lastIndexOf('\\'));
  return { root: cut >= 0 ? trimmed.slice(0, cut + 1) : './', id: trimmed.slice(cut + 1) };
}

async function fetchBytes(location: string): Promise<Uint8Array> {
  const response = await fetch(location);
  if (response.status === 404 || response.status === 410)
    throw new MissingModelFileError({ message: `HTTP ${response.status}`, file: location });
  if (!response.ok) throw new ModelFileError({ message: `HTTP ${response.status}`, file: location });
  return new Uint8Array(await response.arrayBuffer());
}

/** Whether a read failed because the file is not there (rather than unreadable). */
function isMissing(error: unknown): boolean {
  return (
    error instanceof MissingModelFileError ||
    (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT' ||
    /^HTTP 4(04|10)$/.test((error as Error | undefined)?.message ?? '')
  );
}

/**
 * The file of the folder a transformers.js cache key names, if any. It looks a file up by its
 * local path, `pathJoin(localModelPath, id/file)`; in Node it then reads an ONNX file back by its
 * Hub URL, `pathJoin(remoteHost, remotePathTemplate, file)`, even for a local model (hub.js, 4.3).
 */
function cacheKeyReader(env: TransformersModule['env'], root: string, id: string): (key: string) => string | undefined {
  const join = (...parts: string[]) =>
    parts
      .map((p, i) => (i ? p.replace(/^\//, '') : p))
      .map((p, i, all) => (i < all.length - 1 ? p.replace(/\/$/, '') : p))
      .join('/');
  const local = join(root, `${id}/`).replaceAll('\\', '/');
  const template = env.remotePathTemplate ?? '{model}/resolve/{revision}/';
  const remote = join(env.remoteHost ?? 'https://huggingface.co/', template.replaceAll('{model}', id).replaceAll('{revision}', 'main'), '');
  return (key) => {
    const normalised = key.replaceAll('\\', '/');
    for (const prefix of [local, remote]) if (normalised.startsWith(prefix)) return normalised.slice(prefix.length);
    return undefined;
  };
}

/**
 * A transformers.js cache (`env.customCache`) that answers for the files of one model folder with
 * bytes read by us and checked against its manifest; anything else (other files, its runtime's
 * files) it leaves to transformers.js. The model is thus built from the very bytes that were
 * checked, read once. A file that fails the check answers with a body that fails to read, so the
 * load stops there; `failures` keeps the error, which the caller reports. `fileOf` turns a cache key
 * into the file of the folder it names, if it names one.
 */
function verifyingCache(
  fileOf: (key: string) => string | undefined,
  manifest: ModelManifest,
  read: (file: string) => Promise<Uint8Array>,
  failures: ModelIntegrityError[],
) {
  const reads = new Map<string, Promise<{ bytes: Uint8Array; mismatch?: ModelIntegrityError } | undefined>>();
  const check = (file: string) => {
    let pending = reads.get(file);
    if (!pending) {
      pending = read(file).then(
        async (bytes) => ({ bytes, mismatch: await manifestMismatch(manifest, file, bytes) }),
        // Unreadable or absent: transformers.js reads it itself and reports that in its own words.
        () => undefined,
      );
      reads.set(file, pending);
    }
    return pending;
  };
  return {
    async match(key: string): Promise<Response | undefined> {
      const file = fileOf(key);
      if (file === undefined) return undefined;
      // Not listed: nothing to check it against (an optional file transformers.js probes for).
      if (!manifest.files[file]) return undefined;
      const checked = await check(file);
      if (!checked) return undefined;
      const headers = { 'content-length': String(checked.bytes.byteLength) };
      const { mismatch } = checked;
      if (!mismatch) return new Response(checked.bytes as Uint8Array<ArrayBuffer>, { headers });
      if (!failures.includes(mismatch)) failures.push(mismatch);
      return new Response(new ReadableStream({ pull: (controller) => controller.error(mismatch) }), { headers });
    },
    async put(): Promise<void> {},
  };
}

const DTYPES: readonly LlamaDtype[] = ['q4', 'fp32', 'q4f16'];

/** Validates the parsed `classifier.json`; throws a `ModelFileError` that says what is wrong. */
export function parseClassifierSpec(raw: unknown): ClassifierSpec {
  const fail = (why: string) => new ModelFileError({ message: `Model file ${CLASSIFIER_FILE} is corrupt: ${why}`, file: CLASSIFIER_FILE });
  if (typeof raw !== 'object' || raw === null) throw fail('expected a JSON object.');
  const spec = raw as Record<string, unknown>;
  const labels = spec['labels'];
  if (!Array.isArray(labels) || labels.length === 0 || !labels.every((l) => typeof l === 'string' && l.trim() !== '')) {
    throw fail('"labels" must be a non-empty list of non-empty strings.');
  }
  if (new Set(labels).size !== labels.length) throw fail('"labels" has duplicates.');
  const prompt = spec['prompt'];
  if (typeof prompt !== 'string' || prompt.split('{text}').length !== 2) throw fail('"prompt" must be a string containing {text} once.');
  const separator = spec['separator'] ?? ' ';
  if (typeof separator !== 'string') throw fail('"separator" must be a string.');
  const maxTextTokens = spec['max_text_tokens'] ?? 256;
  if (typeof maxTextTokens !== 'number' || !Number.isInteger(maxTextTokens) || maxTextTokens < 1) {
    throw fail('"max_text_tokens" must be a positive integer.');
  }
  const dtypes = spec['dtypes'] ?? ['q4', 'fp32'];
  if (!Array.isArray(dtypes) || !dtypes.every((d) => DTYPES.includes(d as LlamaDtype))) {
    throw fail(`"dtypes" must list some of ${DTYPES.join(', ')}.`);
  }
  const oosThreshold = spec['oos_threshold'] ?? 0;
  if (typeof oosThreshold !== 'number' || !(oosThreshold >= 0 && oosThreshold <= 1))
    throw fail('"oos_threshold" must be a number between 0 and 1.');
  return { labels: labels as string[], prompt, separator, maxTextTokens, dtypes: dtypes as LlamaDtype[], oosThreshold };
}

/** The ONNX file transformers.js reads for a dtype. */
function onnxFileFor(dtype: LlamaDtype): string {
  return `onnx/model${dtype === 'fp32' ? '' : `_${dtype}`}.onnx`;
}

const KNOWN_FILE = /(onnx\/model[\w]*\.onnx(?:_data)?|generation_config\.json|tokenizer_config\.json|tokenizer\.json|config\.json)/;

/** A transformers.js / onnxruntime failure as a `ModelFileError` naming the file (from the message, else `fallbackFile`). */
function toFileError(error: unknown, fallbackFile: string): ModelFileError {
  if (ModelFileError.isInstance(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const file = KNOWN_FILE.exec(message)?.[1] ?? fallbackFile;
  const missing = /could not locate|not found|ENOENT|404/i.test(message);
  return new ModelFileError({
    message: `Model file ${file} is ${missing ? 'missing' : 'unreadable or corrupt'}: ${message}`,
    file,
    cause: error,
  });
}

/**
 * The message with every spelling of a special token (`</s>`, `<|eot_id|>`, ...) broken by a
 * space after its first character. Tokenizers match special tokens in raw text, so a customer who
 * types `</s>` would otherwise end the prompt, or inject a turn, from inside the message.
 */
export function defuseSpecialTokens(message: string, specials: readonly string[]): string {
  let out = message;
  for (const token of specials) if (token.length > 1) out = out.split(token).join(`${token[0]} ${token.slice(1)}`);
  return out;
}

/** Device and dtype after the policy: what the model will really run with. */
export interface LlamaPlacement {
  device: LlamaDevice;
  dtype: LlamaDtype;
  /** Why the model does not run where it was asked to, when it does not. */
  note?: string;
}

/** The device policy (see `LlamaLoadOptions`); throws `ModelUnavailableError` where the model cannot run. */
export async function choosePlacement(
  options: Pick<LlamaLoadOptions, 'device' | 'dtype' | 'allowWasm' | 'gpu'>,
  spec: Pick<ClassifierSpec, 'dtypes'>,
): Promise<LlamaPlacement> {
  const f16Fallback = (dtype: LlamaDtype | undefined) => (dtype === 'q4f16' ? 'q4' : (dtype ?? 'q4'));
  if (options.device !== 'webgpu') return { device: options.device, dtype: f16Fallback(options.dtype) };
  let adapter: GpuAdapterLike | null = null;
  try {
    adapter = (await options.gpu?.requestAdapter()) ?? null;
  } catch {
    adapter = null;
  }
  if (!adapter) {
    if (options.allowWasm) return { device: 'wasm', dtype: f16Fallback(options.dtype), note: 'This browser offers no WebGPU adapter.' };
    throw new ModelUnavailableError({
      message:
        'The llama-qlora model needs WebGPU, which this browser does not offer. Use a browser with WebGPU (a recent Chrome or Edge) or choose another model.',
      model: LLAMA_MODEL_ID,
    });
  }
  const f16 = adapter.features.has('shader-f16');
  if (options.dtype === undefined) return { device: 'webgpu', dtype: f16 && spec.dtypes.includes('q4f16') ? 'q4f16' : 'q4' };
  if (options.dtype === 'q4f16' && !f16)
    return { device: 'webgpu', dtype: 'q4', note: 'The GPU has no shader-f16: using q4 instead of q4f16.' };
  return { device: 'webgpu', dtype: options.dtype };
}

export class LlamaEngine {
  private constructor(
    private readonly model: PreTrainedModel,
    private readonly tokenizer: PreTrainedTokenizer,
    readonly spec: ClassifierSpec,
    readonly placement: LlamaPlacement,
  ) {}

  get device(): LlamaDevice {
    return this.placement.device;
  }

  static async load(options: LlamaLoadOptions): Promise<LlamaEngine> {
    const { transformers, onProgress } = options;
    const { root, id } = splitModelPath(options.modelPath);
    const folder = `${root}${id}/`;

    onProgress?.({ stage: `fetching ${CLASSIFIER_FILE}`, loaded: 0, total: 0 });
    // The small files as bytes (the check hashes bytes): readText is for callers that only have that.
    const readSmall =
      options.readBytes ??
      (options.readText ? async (location: string) => new TextEncoder().encode(await options.readText!(location)) : fetchBytes);
    let classifierBytes: Uint8Array;
    try {
      classifierBytes = await readSmall(folder + CLASSIFIER_FILE);
    } catch (error) {
      throw new ModelFileError({
        message: `Model file ${CLASSIFIER_FILE} is missing or unreadable: ${(error as Error).message}`,
        file: CLASSIFIER_FILE,
        cause: error,
      });
    }
    let raw: unknown;
    try {
      raw = JSON.parse(new TextDecoder().decode(classifierBytes));
    } catch (error) {
      throw new ModelFileError({
        message: `Model file ${CLASSIFIER_FILE} is corrupt: ${(error as Error).message}`,
        file: CLASSIFIER_FILE,
        cause: error,
      });
    }
    // Parsed before the manifest is read, so that an empty or wrong folder is named by its first
    // file; checked before it is used.
    const manifest = await readManifest(folder, readSmall, options.requireManifest ?? false);
    if (manifest) await verifyModelFile(manifest, CLASSIFIER_FILE, classifierBytes);
    const spec = parseClassifierSpec(raw);
    const placement = await choosePlacement(options, spec);

    const { env } = transformers;
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = root;
    if (options.wasmPaths !== undefined && env.backends.onnx.wasm) env.backends.onnx.wasm.wasmPaths = options.wasmPaths;

    const progress_callback = (info: { status?: string; file?: string; loaded?: number; total?: number }) => {
      if (info.status === 'progress' && info.file)
        onProgress?.({ stage: `fetching ${info.file}`, loaded: info.loaded ?? 0, total: info.total ?? 0 });
    };
    // transformers.js fetches the folder's files itself; with a manifest, it gets them through a
    // cache of ours that checks each one first (see verifyingCache).
    const failures: ModelIntegrityError[] = [];
    const saved = { useCustomCache: env.useCustomCache, customCache: env.customCache };
    if (manifest) {
      const readBytes = options.readBytes ?? fetchBytes;
      env.customCache = verifyingCache(cacheKeyReader(env, root, id), manifest, (file) => readBytes(folder + file), failures);
      env.useCustomCache = true;
    }
    let tokenizer: PreTrainedTokenizer;
    let model: PreTrainedModel;
    try {
      try {
        tokenizer = await transformers.AutoTokenizer.from_pretrained(id, { progress_callback });
      } catch (error) {
        throw failures[0] ?? toFileError(error, 'tokenizer.json');
      }
      try {
        model = await transformers.AutoModelForCausalLM.from_pretrained(id, {
          device: placement.device,
          dtype: placement.dtype,
          progress_callback,
        });
      } catch (error) {
        throw failures[0] ?? toFileError(error, onnxFileFor(placement.dtype));
      }
    } finally {
      env.useCustomCache = saved.useCustomCache;
      env.customCache = saved.customCache;
    }
    if (failures[0]) {
      // Loaded, yet from a file that failed its check (transformers.js read it some other way).
      await model.dispose();
      throw failures[0];
    }
    onProgress?.({ stage: 'ready', loaded: 0, total: 0 });
    return new LlamaEngine(model, tokenizer, spec, placement);
  }

  /** Classifies one message; `top` holds the `topK` most probable in-scope labels, best first. */
  async classify(text: string, options: EngineClassifyOptions = {}): Promise<ModelPrediction> {
    const topK = options.topK ?? DEFAULT_TOP_K;
    const started = performance.now();
    const { spec, tokenizer } = this;
    // Only the message is cut, never the instructions around it.
    const ids = tokenizer.encode(defuseSpecialTokens(text, tokenizer.all_special_tokens), { add_special_tokens: false });
    const truncated = ids.length > spec.maxTextTokens;
    const kept = truncated
      ? tokenizer.decode(ids.slice(0, spec.maxTextTokens), { skip_special_tokens: true })
      : defuseSpecialTokens(text, tokenizer.all_special_tokens);
    const prompt = spec.prompt.replace('{text}', () => kept);
    const result = await this.decode(prompt, {
      // One more than asked, so that `out_of_scope` among them still leaves topK in-scope labels.
      topK: Math.max(1, Math.min(topK + (spec.labels.includes(OUT_OF_SCOPE) ? 1 : 0), spec.labels.length)),
    });
    // The exact label probabilities decide, so that `top[0]` is the answer. (Greedy decoding of a
    // multi-token label can, rarely, end on a label that is not the most probable one.)
    const scored = result.alternatives ?? [{ label: result.label, probability: result.confidence }];
    const decision = decide(
      scored.map((a) => a.probability),
      scored.map((a) => a.label),
      topK,
      effectiveThreshold(options.oosThreshold, spec.oosThreshold),
    );
    return {
      ...decision,
      model: LLAMA_MODEL_ID,
      device: this.placement.device,
      latency_ms: performance.now() - started,
      truncated,
      masked: false,
      masked_categories: [],
    };
  }

  /**
   * One constrained decode of a short message, answer dropped: the first WebGPU run compiles the
   * shaders (seconds on a software adapter), better now than in the user's first request.
   */
  async warmUp(): Promise<void> {
    await this.decode(this.spec.prompt.replace('{text}', 'hello'), {});
  }

  /**
   * The constrained decode, refusing to answer from weights that compute NaN: they would give a
   * NaN confidence ("NaN%"), or make the decode fail on tokens outside every label.
   */
  private async decode(prompt: string, options: { topK?: number }) {
    const { spec } = this;
    let result: Awaited<ReturnType<typeof classifyWithLlama>>;
    try {
      result = await classifyWithLlama({
        model: this.model,
        tokenizer: this.tokenizer,
        prompt,
        labels: spec.labels,
        separator: spec.separator,
        ...options,
      });
    } catch (error) {
      // Why did it fail? Logits of the prompt that are not numbers say it is the weights.
      const bad = await this.nonFiniteLogit(prompt).catch(() => undefined);
      if (bad !== undefined) throw nonFiniteOutputError(onnxFileFor(this.placement.dtype), bad);
      throw error;
    }
    const bad = firstNonFinite([result.confidence, ...(result.alternatives ?? []).map((a) => a.probability)]);
    if (bad !== undefined) throw nonFiniteOutputError(onnxFileFor(this.placement.dtype), bad);
    return result;
  }

  /** The first non-finite logit of one forward pass over `prompt`, or undefined. */
  private async nonFiniteLogit(prompt: string): Promise<number | undefined> {
    const ids = this.tokenizer.encode(prompt);
    const input_ids = new Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]);
    const attention_mask = new Tensor('int64', BigInt64Array.from(ids.map(() => 1n)), [1, ids.length]);
    const out = (await this.model({ input_ids, attention_mask })) as { logits: { data: ArrayLike<number> } };
    return firstNonFinite(out.logits.data);
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
  }
}
