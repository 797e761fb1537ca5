/**
 * A transformers.js Llama folder (config.json, tokenizer.json, onnx/model.onnx in float32) read
 * back as a Hugging Face checkpoint: how the demo continues fine-tuning a model it already ships,
 * the way a bank fine-tunes its own fine-tuned Llama again, without the hour the base costs to train.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fromHfConfig } from '../../models/llama/config';
import { llamaParameterShapes, type LlamaWeights } from '../../models/llama/reference';
import { readInitializers } from '../../models/onnx/graph-builder';
import { wordPieceFromHfTokenizer } from '../../tokenizer/hf-tokenizer';
import type { HfLlama } from './checkpoint';
import { ModelFormatError } from '../../core/errors';

/** Every parameter of the checkpoint, from the float32 graph's initializers (projections are stored transposed there). */
export async function readLlamaFromOnnx(dir: string): Promise<HfLlama> {
  const config = fromHfConfig(JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')), join(dir, 'config.json'));
  const tokenizer = wordPieceFromHfTokenizer(JSON.parse(await readFile(join(dir, 'tokenizer.json'), 'utf8')), join(dir, 'tokenizer.json'));
  const file = join(dir, 'onnx', 'model.onnx');
  const initializers = readInitializers(await readFile(file));
  const weights: LlamaWeights = {};
  for (const [name, shape] of Object.entries(llamaParameterShapes(config))) {
    const plain = initializers.get(name);
    const transposed = initializers.get(`${name}_transposed`);
    if (plain && plain.data instanceof Float32Array) {
      weights[name] = { shape, data: Float32Array.from(plain.data) };
    } else if (transposed && transposed.data instanceof Float32Array && shape.length === 2) {
      const [rows, cols] = shape as [number, number]; // the graph holds [cols, rows]
      const data = new Float32Array(rows * cols);
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) data[r * cols + c] = transposed.data[c * rows + r]!;
      weights[name] = { shape, data };
    } else {
      throw new ModelFormatError(`${file} has no float32 ${name}: continuing from a model needs its fp32 graph`);
    }
  }
  return { config, weights, tokenizer };
}
