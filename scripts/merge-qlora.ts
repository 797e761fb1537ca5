/**
 * npm run merge-qlora -- --base DIR --adapter DIR --out DIR [--dtype f32|bf16]
 *
 * Merges a PEFT LoRA/QLoRA adapter (adapter_config.json + adapter_model.safetensors) into a Hugging
 * Face Llama checkpoint (config.json + *.safetensors, sharded or not; F32, F16 or BF16) and writes
 * `--out`/model.safetensors (float32 by default) beside a copy of the base's config.json and
 * tokenizer files. One tensor is in memory at a time: see src/models/llama/merge.ts.
 */
import { copyFile, mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openLoraMerge, type MergedTensorSink } from '../src/models/llama/merge';
import { SafetensorsWriter } from '../src/models/llama/safetensors';
import { runCli } from './lib/cli';

/** Small files copied from the base as they are, when present. */
const COPIED_FILES = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'];

runCli(async () => {
  const { values } = parseArgs({
    options: {
      base: { type: 'string' },
      adapter: { type: 'string' },
      out: { type: 'string' },
      dtype: { type: 'string', default: 'f32' },
    },
  });
  const { base, adapter, out } = values;
  if (!base || !adapter || !out) throw new Error('usage: npm run merge-qlora -- --base DIR --adapter DIR --out DIR [--dtype f32|bf16]');
  if (values.dtype !== 'f32' && values.dtype !== 'bf16') throw new Error(`--dtype must be f32 or bf16, got "${values.dtype}"`);

  const started = Date.now();
  const merge = await openLoraMerge({ baseDir: base, adapterDir: adapter });
  try {
    for (const warning of merge.warnings) console.warn(`warning: ${warning}`);
    console.log(
      `merging ${merge.adapted.size} LoRA pairs (r=${merge.adapterConfig.r}, scale ${merge.scale}) into ${merge.tensors.length} tensors`,
    );
    await mkdir(out, { recursive: true });
    // Written under a temporary name and renamed at the end, so a failed run leaves no half file behind.
    const target = join(out, 'model.safetensors');
    const partial = `${target}.partial`;
    const writer = await SafetensorsWriter.create(partial, merge.tensors, {
      dtype: values.dtype === 'bf16' ? 'BF16' : 'F32',
      metadata: { format: 'pt' },
    });
    // The merged stream: swap this sink to feed another writer (e.g. the ONNX export).
    const sink: MergedTensorSink = (name, _shape, data) => writer.write(name, data);
    try {
      const summary = await merge.merge(sink);
      await writer.close();
      await rename(partial, target);
      console.log(`merged ${summary.merged.length} projections; wrote ${target} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    } catch (error) {
      await writer.close().catch(() => undefined);
      await rm(partial, { force: true });
      throw error;
    }
    for (const file of COPIED_FILES) {
      const from = join(base, file);
      if (
        await stat(from).then(
          () => true,
          () => false,
        )
      )
        await copyFile(from, join(out, file));
    }
  } finally {
    await merge.close();
  }
});
