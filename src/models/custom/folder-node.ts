/**
 * The custom model's folder on disk (Node only): one layout that our engine and transformers.js
 * both load, written by training (`src/training/write-model.ts`) and by
 * `scripts/reexport-custom.ts`, read back by the scripts and tests that need the files themselves.
 *
 *   config.json            our config (shape, labels, temperature, threshold) + the Hugging Face
 *                          fields transformers.js needs (`transformersJsFields`)
 *   onnx/model.onnx        the graph: input_ids, attention_mask -> logits, probabilities
 *   tokenizer.json         Hugging Face format, our WordPiece vocabulary (`toHfEncoderTokenizerFiles`)
 *   tokenizer_config.json  for transformers.js / Hugging Face only (our engine does not read it)
 *   spelling.json          the spelling-correction word list, for our engine only
 *   manifest.json          SHA-256 and size of each of the above (written last)
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeModelManifest } from '../../engine/model-manifest-node';
import { customTokenizerFromFiles, toHfEncoderTokenizerFiles } from '../../tokenizer/hf-tokenizer';
import type { WordPieceTokenizer } from '../../tokenizer/wordpiece';
import { MODEL_FILES, parseModelConfig, transformersJsFields, type CustomModelConfig } from './config';

/** Our fields of config.json; `files` and the Hugging Face fields are filled in when it is written. */
export type CustomModelSettings = Omit<CustomModelConfig, 'files' | keyof ReturnType<typeof transformersJsFields>>;

/**
 * Writes every file of the folder, then its manifest (the engines refuse files that do not match
 * it). Returns the config as written.
 */
export function writeCustomModelFolder(
  dir: string,
  o: { settings: CustomModelSettings; tokenizer: WordPieceTokenizer; onnx: Uint8Array },
): CustomModelConfig {
  const hf = toHfEncoderTokenizerFiles(o.tokenizer, o.settings.maxTokens);
  const config: CustomModelConfig = {
    ...o.settings,
    files: {
      model: MODEL_FILES.model,
      tokenizer: MODEL_FILES.tokenizer,
      ...(hf.spelling ? { spelling: MODEL_FILES.spelling } : {}),
    },
    ...transformersJsFields(o.settings.labels),
  };
  const write = (file: string, content: Uint8Array | string) => {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), content);
  };
  write(MODEL_FILES.model, o.onnx);
  write(MODEL_FILES.tokenizer, JSON.stringify(hf.tokenizer));
  write(MODEL_FILES.tokenizerConfig, JSON.stringify(hf.tokenizerConfig, null, 2) + '\n');
  if (hf.spelling) write(MODEL_FILES.spelling, JSON.stringify(hf.spelling));
  write('config.json', JSON.stringify(config, null, 2) + '\n');
  writeModelManifest(dir);
  return config;
}

/** A folder's config, tokenizer (with its spelling list) and ONNX bytes, in either layout (before or after the Hugging Face one). */
export function readCustomModelFolder(dir: string): { config: CustomModelConfig; tokenizer: WordPieceTokenizer; onnx: Uint8Array } {
  const json = (file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8')) as unknown;
  const config = parseModelConfig(json('config.json'));
  const tokenizer = customTokenizerFromFiles(json(config.files.tokenizer), config.files.spelling && json(config.files.spelling), {
    tokenizer: config.files.tokenizer,
    spelling: config.files.spelling,
  });
  return { config, tokenizer, onnx: new Uint8Array(readFileSync(join(dir, config.files.model))) };
}

/** Our fields of a config, without `files` and the Hugging Face fields (what `writeCustomModelFolder` takes). */
export function customModelSettings(config: CustomModelConfig): CustomModelSettings {
  const {
    files: _files,
    model_type: _modelType,
    architectures: _architectures,
    problem_type: _problemType,
    id2label: _id2label,
    label2id: _label2id,
    'transformers.js_config': _transformersJs,
    ...settings
  } = config;
  return settings;
}
