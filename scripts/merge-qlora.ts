/**
 * npm run merge-qlora -- --base DIR --adapter DIR --out DIR [--fp32 auto|yes|no] [--safetensors f32|bf16] [--base-nf4]
 *
 * Merges a PEFT LoRA/QLoRA adapter (adapter_config.json + adapter_model.safetensors) into a Hugging
 * Face Llama (config.json + *.safetensors, sharded or not; F32, F16 or BF16), quantises it to 4 bits
 * and writes the folder transformers.js loads: onnx/model_q4.onnx (+ onnx/model.onnx in float32 when
 * it fits one file), config.json, the base's tokenizer files, and the adapter's classifier.json.
 * `--safetensors` also writes the merged weights (e.g. to serve them with vLLM). `--base-nf4` merges
 * into the base's linear layers after an NF4 round trip, the weights a QLoRA adapter was trained on.
 * See src/models/llama/merge-export.ts.
 */
import { parseArgs } from 'node:util';
import { mergeToTransformersJs } from '../src/models/llama/merge-export';
import { runCli } from './lib/cli';

const USAGE = 'usage: npm run merge-qlora -- --base DIR --adapter DIR --out DIR [--fp32 auto|yes|no] [--safetensors f32|bf16] [--base-nf4]';

runCli(async () => {
  const { values } = parseArgs({
    options: {
      base: { type: 'string' },
      adapter: { type: 'string' },
      out: { type: 'string' },
      fp32: { type: 'string', default: 'auto' },
      safetensors: { type: 'string' },
      'base-nf4': { type: 'boolean', default: false },
    },
  });
  const { base, adapter, out } = values;
  if (!base || !adapter || !out) throw new Error(USAGE);
  const fp32 = ({ auto: 'auto', yes: true, no: false } as const)[values.fp32 as 'auto' | 'yes' | 'no'];
  if (fp32 === undefined) throw new Error(`--fp32 must be auto, yes or no, got "${values.fp32}"`);
  const safetensors =
    values.safetensors === undefined ? undefined : ({ f32: 'F32', bf16: 'BF16' } as const)[values.safetensors as 'f32' | 'bf16'];
  if (values.safetensors !== undefined && !safetensors) throw new Error(`--safetensors must be f32 or bf16, got "${values.safetensors}"`);

  const started = Date.now();
  const summary = await mergeToTransformersJs({
    baseDir: base,
    adapterDir: adapter,
    outDir: out,
    fp32,
    safetensors,
    baseNf4: values['base-nf4'],
    log: console.log,
  });
  for (const warning of summary.warnings) console.warn(`warning: ${warning}`);
  console.log(`merged ${summary.merged.length} projections in ${((Date.now() - started) / 1000).toFixed(1)} s; wrote to ${out}:`);
  for (const f of summary.files) console.log(`  ${f.path}  ${(f.bytes / 2 ** 20).toFixed(2)} MiB`);
});
