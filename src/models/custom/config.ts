/**
 * The custom model's configuration: one object, saved as `config.json` in the model folder and
 * read by training, export, the Node CLI and the browser worker alike. The same file carries the
 * few Hugging Face fields that let transformers.js load the folder (`transformersJsFields`).
 */
import { ModelFormatError } from '../../core/errors';

export interface EncoderShape {
  /** Token vocabulary size (from the tokenizer). */
  vocabSize: number;
  /** Longest input in tokens; longer text is truncated and the prediction says so. */
  maxTokens: number;
  /** Width of the residual stream. */
  dModel: number;
  /** Attention heads per layer; `dModel` must divide by it. */
  heads: number;
  layers: number;
  /** Width of the feed-forward layer inside each block. */
  ffn: number;
  /** Output classes. */
  numLabels: number;
}

export interface CustomModelConfig extends EncoderShape {
  /** Format version of this file. */
  version: 1;
  /** The intents, index = output position. Banking77's 77, or a bank's own from its CSV. */
  labels: string[];
  /** Independently trained members whose logits the ONNX graph averages. */
  members: number;
  /** Softmax temperature fitted on the validation split; already applied inside the graph. */
  temperature: number;
  /**
   * Present when the model can answer `out_of_scope` (its last label): `threshold` is the default
   * below which the best in-scope label's probability means "none of these", chosen on validation
   * data (in-scope rows and held-out negatives) when the model was trained.
   */
  outOfScope?: { threshold: number };
  /** How the weights are stored in the ONNX file. */
  weights: 'int8' | 'fp32';
  /**
   * Files, relative to the folder holding this config. `spelling` (optional): the known words for
   * spelling correction, when `tokenizer` is a Hugging Face tokenizer.json (older folders keep
   * them inside their own-format tokenizer.json).
   */
  files: { model: string; tokenizer: string; spelling?: string };
  /**
   * The Hugging Face fields (see `transformersJsFields`), so that transformers.js loads the same
   * folder as a `text-classification` pipeline. Derived from `labels` when the folder is written;
   * when present they must agree with `labels`. Absent in folders written before them.
   */
  model_type?: string;
  architectures?: string[];
  problem_type?: string;
  id2label?: Record<string, string>;
  label2id?: Record<string, number>;
  'transformers.js_config'?: { dtype: string };
}

/** Where the export puts each file: `onnx/model.onnx` is where transformers.js looks for the graph. */
export const MODEL_FILES = {
  model: 'onnx/model.onnx',
  tokenizer: 'tokenizer.json',
  tokenizerConfig: 'tokenizer_config.json',
  spelling: 'spelling.json',
} as const;

/**
 * What transformers.js (v4) needs in config.json to run the folder as
 * `pipeline('text-classification', folder)`:
 * - `model_type` picks the model class from its sequence-classification table. `bert` gives
 *   `BertForSequenceClassification`, a generic wrapper: it feeds the graph the inputs it declares
 *   (`input_ids`, `attention_mask`; `token_type_ids` only if declared, and ours does not) and reads
 *   the `logits` output. Nothing else of BERT is read: no BERT weights, shapes or tokenizer.
 * - `id2label` names the outputs; the pipeline applies a softmax to `logits` (single-label, the
 *   default `problem_type`), which gives our graph's `probabilities` output.
 * - `transformers.js_config.dtype: 'fp32'`: the file without a dtype suffix, `onnx/model.onnx`, on
 *   every device (in a browser the default on WASM would be `q8`, `onnx/model_quantized.onnx`). The
 *   weights inside are int8 either way, dequantised within the graph.
 */
export function transformersJsFields(
  labels: readonly string[],
): Required<Pick<CustomModelConfig, 'model_type' | 'architectures' | 'problem_type' | 'id2label' | 'label2id' | 'transformers.js_config'>> {
  return {
    model_type: 'bert',
    architectures: ['BertForSequenceClassification'],
    problem_type: 'single_label_classification',
    id2label: Object.fromEntries(labels.map((label, i) => [String(i), label])),
    label2id: Object.fromEntries(labels.map((label, i) => [label, i])),
    'transformers.js_config': { dtype: 'fp32' },
  };
}

/** The default shape: small enough for a phone, big enough to beat TF-IDF on Banking77. */
export const DEFAULT_SHAPE: Omit<EncoderShape, 'vocabSize' | 'numLabels'> = {
  maxTokens: 64,
  dModel: 128,
  heads: 4,
  layers: 2,
  ffn: 256,
};

/** Checks a parsed `config.json`; throws with the first problem found. */
export function parseModelConfig(json: unknown): CustomModelConfig {
  const c = json as Partial<CustomModelConfig> | null;
  const problems: string[] = [];
  const positiveInt = (key: keyof CustomModelConfig) => {
    const v = c?.[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) problems.push(`${key} must be a positive integer`);
  };
  if (c === null || typeof c !== 'object') throw new ModelFormatError('config is not a JSON object');
  (['vocabSize', 'maxTokens', 'dModel', 'heads', 'layers', 'ffn', 'numLabels', 'members'] as const).forEach(positiveInt);
  if (!Array.isArray(c.labels) || c.labels.some((l) => typeof l !== 'string')) problems.push('labels must be a list of strings');
  else if (c.labels.length !== c.numLabels) problems.push(`labels has ${c.labels.length} entries but numLabels is ${c.numLabels}`);
  if (typeof c.temperature !== 'number' || !(c.temperature > 0)) problems.push('temperature must be a positive number');
  if (
    c.outOfScope !== undefined &&
    !(typeof c.outOfScope?.threshold === 'number' && c.outOfScope.threshold >= 0 && c.outOfScope.threshold <= 1)
  )
    problems.push('outOfScope.threshold must be a number between 0 and 1');
  if (typeof c.files?.model !== 'string' || typeof c.files?.tokenizer !== 'string')
    problems.push('files.model and files.tokenizer are required');
  else if (c.files.spelling !== undefined && typeof c.files.spelling !== 'string') problems.push('files.spelling must be a file name');
  // One source of truth: the Hugging Face label maps are `labels` written another way.
  if (Array.isArray(c.labels) && (c.id2label !== undefined || c.label2id !== undefined)) {
    const labels = c.labels;
    const same = (map: unknown, entries: [string, unknown][]) =>
      typeof map === 'object' &&
      map !== null &&
      Object.keys(map).length === entries.length &&
      entries.every(([key, value]) => (map as Record<string, unknown>)[key] === value);
    const byId = labels.map((label, i): [string, unknown] => [String(i), label]);
    const byLabel = labels.map((label, i): [string, unknown] => [label, i]);
    const fix = '(they name the labels for transformers.js: write them from labels)';
    if (c.id2label !== undefined && !same(c.id2label, byId)) problems.push(`id2label does not match labels ${fix}`);
    if (c.label2id !== undefined && !same(c.label2id, byLabel)) problems.push(`label2id does not match labels ${fix}`);
  }
  if (problems.length > 0) throw new ModelFormatError(problems.join('; '));
  return c as CustomModelConfig;
}
