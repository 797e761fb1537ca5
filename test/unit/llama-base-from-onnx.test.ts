/**
 * `train:llama --base-from`: the bundled Llama read back from its float32 graph must be the very
 * checkpoint that graph was written from (exported again, every initializer is the same).
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { llamaParameterShapes } from '../../src/models/llama/reference';
import { exportLlamaOnnx } from '../../src/convert/llama/onnx-export';
import { readInitializers } from '../../src/models/onnx/graph-builder';
import { readLlamaFromOnnx } from '../../src/training/llama/base-from-onnx';

const DIR = 'public/models/llama-qlora';

describe('readLlamaFromOnnx', () => {
  it('reads every parameter of the bundled Llama, and exporting them again gives the same graph weights', async () => {
    const model = await readLlamaFromOnnx(DIR);
    const shapes = llamaParameterShapes(model.config);
    expect(Object.keys(model.weights).sort()).toEqual(Object.keys(shapes).sort());
    for (const [name, shape] of Object.entries(shapes)) expect(model.weights[name]!.shape, name).toEqual(shape);

    const original = readInitializers(await readFile(`${DIR}/onnx/model.onnx`));
    const again = readInitializers(exportLlamaOnnx(model.config, model.weights, { dtype: 'fp32' }));
    expect([...again.keys()].sort()).toEqual([...original.keys()].sort());
    for (const [name, tensor] of original) expect(again.get(name)!.data, name).toEqual(tensor.data);
    // The tokenizer came along: the labels still spell out.
    expect(model.tokenizer.encode('out_of_scope').ids).not.toContain(model.tokenizer.unkId);
  });

  it('refuses a folder that is not a model folder, naming the file it lacks', async () => {
    await expect(readLlamaFromOnnx('test')).rejects.toThrow(/config\.json/);
  });
});
