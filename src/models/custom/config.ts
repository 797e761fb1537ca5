/**
 * The custom model's configuration: one object, saved as `config.json` next to the ONNX file and
 * read by training, export, the Node CLI and the browser worker alike.
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
  /** Files, relative to the folder holding this config. */
  files: { model: string; tokenizer: string };
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
  if (problems.length > 0) throw new ModelFormatError(problems.join('; '));
  return c as CustomModelConfig;
}
