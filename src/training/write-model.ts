/** Writes a trained ensemble as the folder the engine loads: model.onnx, tokenizer.json, config.json, manifest.json. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeModelManifest } from '../engine/model-manifest-node';
import type { CustomModelConfig, EncoderShape } from '../models/custom/config';
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
  mkdirSync(o.dir, { recursive: true });
  const config: CustomModelConfig = {
    version: 1,
    ...o.shape,
    labels: o.labels,
    members: o.members.length,
    temperature: o.temperature,
    ...(o.outOfScope ? { outOfScope: o.outOfScope } : {}),
    weights: o.weights,
    files: { model: 'model.onnx', tokenizer: 'tokenizer.json' },
  };
  const onnx = exportEnsembleToOnnx({
    shape: o.shape,
    members: o.members,
    temperature: o.temperature,
    weights: o.weights,
    metadata: { labels: JSON.stringify(o.labels) },
  });
  writeFileSync(join(o.dir, config.files.model), onnx);
  writeFileSync(join(o.dir, config.files.tokenizer), JSON.stringify(o.tokenizer.toJSON()));
  writeFileSync(join(o.dir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  // Last: the engine refuses files that do not match it.
  writeModelManifest(o.dir);
  return config;
}
