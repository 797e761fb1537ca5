/**
 * Writes a trained ensemble as the folder our engine and transformers.js load (config.json,
 * onnx/model.onnx, tokenizer.json, tokenizer_config.json, spelling.json, manifest.json: the layout
 * is in src/models/custom/folder-node.ts).
 */
import type { CustomModelConfig, EncoderShape } from '../models/custom/config';
import { writeCustomModelFolder } from '../models/custom/folder-node';
import type { NamedWeights } from '../models/custom/model';
import { exportEnsembleToOnnx } from '../models/custom/onnx-export';
import type { WordPieceTokenizer } from '../tokenizer/wordpiece';

export interface WriteModelOptions {
  dir: string;
  shape: EncoderShape;
  labels: string[];
  tokenizer: WordPieceTokenizer;
  members: NamedWeights[];
  temperature: number;
  weights: 'int8' | 'fp32';
  outOfScope?: { threshold: number };
}

export function writeModelFolder(o: WriteModelOptions): CustomModelConfig {
  const onnx = exportEnsembleToOnnx({
    shape: o.shape,
    members: o.members,
    temperature: o.temperature,
    weights: o.weights,
    metadata: { labels: JSON.stringify(o.labels) },
  });
  return writeCustomModelFolder(o.dir, {
    settings: {
      version: 1,
      ...o.shape,
      labels: o.labels,
      members: o.members.length,
      temperature: o.temperature,
      ...(o.outOfScope ? { outOfScope: o.outOfScope } : {}),
      weights: o.weights,
    },
    tokenizer: o.tokenizer,
    onnx,
  });
}
