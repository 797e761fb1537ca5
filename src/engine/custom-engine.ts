/**
 * Inference for the custom model: tokenizer + ONNX session + post-processing. It does not know
 * where it runs: the browser worker hands it onnxruntime-web and an HTTP source, the Node CLI
 * onnxruntime-node and a folder. So the CLI's figures and the browser's come from one code path.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import type { EngineClassifyOptions, LoadProgress } from '../core/adapter';
import { throwIfAborted } from '../core/abort';
import { ModelFileError, type ModelFormatError } from '../core/errors';
import { decide, effectiveThreshold } from '../core/out-of-scope';
import { DEFAULT_TOP_K } from '../core/config';
import type { Device, ModelPrediction } from '../core/prediction';
import { parseModelConfig, type CustomModelConfig } from '../models/custom/config';
import { customTokenizerFromFiles } from '../tokenizer/hf-tokenizer';
import type { Encoding, WordPieceTokenizer } from '../tokenizer/wordpiece';
import {
  firstNonFinite,
  MODEL_MANIFEST_FILE,
  ModelIntegrityError,
  nonFiniteOutputError,
  parseModelManifest,
  verifyModelFile,
  type ModelManifest,
} from './model-manifest';
import { MissingModelFileError, type ModelSource } from './model-source';
import { SESSION_OPTIONS } from './session-options';

/** The parts of an onnxruntime package the engine uses: both onnxruntime-web and -node fit. */
export interface OrtModule {
  InferenceSession: { create(model: Uint8Array, options?: InferenceSession.SessionOptions): Promise<InferenceSession> };
  Tensor: new (type: 'int64', data: BigInt64Array, dims: readonly number[]) => Tensor;
}

export interface EngineLoadOptions {
  ort: OrtModule;
  /** Execution providers in order of preference, e.g. `['webgpu']`, `['wasm']`, `['cpu']`. */
  executionProviders: InferenceSession.ExecutionProviderConfig[];
  /** What to report as `device` in predictions. */
  device: Device;
  modelId?: string;
  /**
   * Whether a folder without `manifest.json` is refused. A manifest that is there is always
   * checked. Default false for sources made in memory (benchmarks); the browser host and the Node
   * loader of real folders ask for true.
   */
  requireManifest?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: LoadProgress) => void;
}

export class CustomEngine {
  private constructor(
    readonly config: CustomModelConfig,
    readonly tokenizer: WordPieceTokenizer,
    private readonly session: InferenceSession,
    private readonly ort: OrtModule,
    readonly device: Device,
    readonly modelId: string,
    /** Size of the ONNX file in bytes. */
    readonly modelBytes: number,
  ) {}

  static async load(source: ModelSource, o: EngineLoadOptions): Promise<CustomEngine> {
    const progress = (stage: string, loaded = 0, total = 0) => o.onProgress?.({ stage, loaded, total });
    const read = (file: string) =>
      source.read(file, { signal: o.signal, onProgress: (p) => progress(`fetching ${p.file}`, p.loaded, p.total) });

    progress('fetching config.json');
    // config.json is read and parsed before the manifest, so that an empty or wrong folder (or a
    // server answering index.html for anything) is named by its first file, as before manifests.
    const configBytes = await read('config.json');
    const config = parseFile('config.json', configBytes, parseModelConfig);
    const manifest = await readManifest(source, read, o.requireManifest ?? false);
    // Every file is checked before it is used or handed to onnxruntime: a corrupt or altered file
    // is named here rather than failing somewhere inside, or answering NaN.
    const verified = async (file: string, bytes: Uint8Array) => {
      if (manifest) await verifyModelFile(manifest, file, bytes);
      return bytes;
    };
    await verified('config.json', configBytes);
    const tokenizerFile = config.files.tokenizer;
    const tokenizerJson = parseFile(tokenizerFile, await verified(tokenizerFile, await read(tokenizerFile)), (json) => json);
    // The spelling word list: its own file next to a Hugging Face tokenizer.json; older folders
    // keep it inside their own-format tokenizer.json.
    const spellingFile = config.files.spelling;
    const spellingJson =
      spellingFile === undefined
        ? undefined
        : parseFile(spellingFile, await verified(spellingFile, await read(spellingFile)), (json) => json);
    let tokenizer: WordPieceTokenizer;
    try {
      tokenizer = customTokenizerFromFiles(tokenizerJson, spellingJson, { tokenizer: tokenizerFile, spelling: spellingFile });
    } catch (error) {
      // A message that names its file already says which; our own format's errors do not.
      const named = (error as ModelFormatError).file;
      const file = named ?? tokenizerFile;
      const message = named ? (error as Error).message : `Model file ${file} is corrupt: ${(error as Error).message}`;
      throw new ModelFileError({ message, file, cause: error });
    }
    if (tokenizer.size !== config.vocabSize) {
      throw new ModelFileError({
        message: `${tokenizerFile} has ${tokenizer.size} tokens but config.json expects ${config.vocabSize}: the files are from different trainings.`,
        file: tokenizerFile,
      });
    }
    const modelBytes = await verified(config.files.model, await read(config.files.model));
    throwIfAborted(o.signal);

    // A step after the last byte, with no bytes of its own to count.
    progress('creating session');
    let session: InferenceSession;
    try {
      session = await o.ort.InferenceSession.create(modelBytes, { ...SESSION_OPTIONS, executionProviders: o.executionProviders });
    } catch (error) {
      // A file that failed before the session could start (the browser host's runtime download)
      // is named by its own error.
      if (error instanceof ModelFileError) throw error;
      throw new ModelFileError({
        message: `${config.files.model} could not be loaded by onnxruntime (${o.device}): ${(error as Error).message}`,
        file: config.files.model,
        cause: error,
      });
    }
    if (!session.outputNames.includes('probabilities') || !session.inputNames.includes('input_ids')) {
      await session.release();
      throw new ModelFileError({
        message: `${config.files.model} is not an intent model: it lacks the input_ids input or the probabilities output.`,
        file: config.files.model,
      });
    }
    throwIfAborted(o.signal);
    return new CustomEngine(config, tokenizer, session, o.ort, o.device, o.modelId ?? 'custom', modelBytes.byteLength);
  }

  get labels(): readonly string[] {
    return this.config.labels;
  }

  async classify(text: string, options: EngineClassifyOptions = {}): Promise<ModelPrediction> {
    const [prediction] = await this.classifyBatch([text], options);
    return prediction!;
  }

  /** The out-of-scope threshold stored with the model (0 when it has none). */
  get oosThreshold(): number {
    return this.config.outOfScope?.threshold ?? 0;
  }

  /**
   * Classifies several messages in one model call (padded to the longest). Each prediction's
   * `latency_ms` is the whole batch's time: divide by the count for throughput.
   */

  async classifyBatch(texts: string[], options: EngineClassifyOptions = {}): Promise<ModelPrediction[]> {
    const topK = options.topK ?? DEFAULT_TOP_K;
    const threshold = effectiveThreshold(options.oosThreshold, this.oosThreshold);
    const started = performance.now();
    const { encoded, probabilities } = await this.run(texts);
    const latency = performance.now() - started;
    const n = this.labels.length;
    return encoded.map((e, row) => {
      return {
        ...decide(probabilities.subarray(row * n, (row + 1) * n), this.labels, topK, threshold),
        model: this.modelId,
        device: this.device,
        latency_ms: latency,
        truncated: e.truncated,
        // The text never leaves the device: nothing to mask.
        masked: false,
        masked_categories: [],
      };
    });
  }

  /**
   * The model's probability for every label (`labels` order, `out_of_scope` included where the
   * model has it) of each message: the graph's output before the out-of-scope rule, which is what
   * a `text-classification` pipeline in transformers.js ranks (softmax of the `logits` output).
   */
  async scoreBatch(texts: string[]): Promise<Float32Array[]> {
    const { probabilities } = await this.run(texts);
    const n = this.labels.length;
    return texts.map((_, row) => probabilities.slice(row * n, (row + 1) * n));
  }

  /** Tokenizes, pads to the longest message and runs the graph once: `[rows, labels]` probabilities. */
  private async run(texts: string[]): Promise<{ encoded: Encoding[]; probabilities: Float32Array }> {
    const encoded = texts.map((text) => this.tokenizer.encode(text, this.config.maxTokens));
    const time = Math.max(...encoded.map((e) => e.ids.length));
    const ids = new BigInt64Array(texts.length * time).fill(BigInt(this.tokenizer.padId));
    const mask = new BigInt64Array(texts.length * time);
    encoded.forEach((e, row) => {
      e.ids.forEach((id, t) => {
        ids[row * time + t] = BigInt(id);
        mask[row * time + t] = 1n;
      });
    });
    const dims = [texts.length, time];
    const feeds = { input_ids: new this.ort.Tensor('int64', ids, dims), attention_mask: new this.ort.Tensor('int64', mask, dims) };
    // Only the output used: `logits` is neither copied out of WASM memory nor read back from the GPU.
    const outputs = await this.session.run(feeds, ['probabilities']);
    const probabilities = (await outputs.probabilities!.getData()) as Float32Array;
    // Weights that parse but compute NaN would otherwise answer "NaN%" (or nothing at all).
    const bad = firstNonFinite(probabilities);
    if (bad !== undefined) throw nonFiniteOutputError(this.config.files.model, bad);
    return { encoded, probabilities };
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/** The folder's manifest; undefined when it has none (or it cannot be read) and none is required. */
async function readManifest(
  source: ModelSource,
  read: (file: string) => Promise<Uint8Array>,
  required: boolean,
): Promise<ModelManifest | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await read(MODEL_MANIFEST_FILE);
  } catch (error) {
    // Not required: a source without one (a model built in memory) loads unchecked.
    if (!required) return undefined;
    if (!(error instanceof MissingModelFileError)) throw error;
    throw new ModelIntegrityError({
      message: `Model file ${MODEL_MANIFEST_FILE} is missing in ${source.location}: without it the model files cannot be checked. Rebuild the model, or run \`npm run models:manifest\` for a folder you trust.`,
      file: MODEL_MANIFEST_FILE,
      cause: error,
    });
  }
  return parseModelManifest(bytes);
}

function parseFile<T>(file: string, bytes: Uint8Array, parse: (json: unknown) => T): T {
  try {
    return parse(JSON.parse(new TextDecoder().decode(bytes)));
  } catch (error) {
    throw new ModelFileError({ message: `Model file ${file} is corrupt: ${(error as Error).message}`, file, cause: error });
  }
}
