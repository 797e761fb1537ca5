/**
 * npm run merge-qlora -- --base DIR --adapter DIR --out DIR [--fp32 auto|yes|no] [--q4f16 yes|no]
 *                        [--external-data auto|yes|no] [--embedding auto|q4|float] [--safetensors f32|bf16] [--base-nf4]
 *
 * Merges a PEFT LoRA/QLoRA adapter (adapter_config.json + adapter_model.safetensors) into a Hugging
 * Face Llama (config.json + *.safetensors, sharded or not; F32, F16 or BF16), quantises it to 4 bits
 * and writes the folder transformers.js loads: onnx/model_q4.onnx and onnx/model_q4f16.onnx (+
 * onnx/model.onnx in float32 when it fits one file), with their weights in onnx/*.onnx_data when a
 * graph would pass 2 GiB; config.json, the base's tokenizer files, and the adapter's classifier.json.
 * `--safetensors` also writes the merged weights (e.g. to serve them with vLLM). `--base-nf4` merges
 * into the base's linear layers after an NF4 round trip, the weights a QLoRA adapter was trained on.
 * `--embedding float` keeps the embedding table in float32 in the 4-bit files.
 * The last line gives the process's peak resident memory. See src/models/llama/merge-export.ts.
 */
import { parseArgs } from 'node:util';
import { mergeToTransformersJs } from '../src/models/llama/merge-export';
import { runCli } from './lib/cli';

const USAGE =
  'usage: npm run merge-qlora -- --base DIR --adapter DIR --out DIR [--fp32 auto|yes|no] [--q4f16 yes|no] ' +
  '[--external-data auto|yes|no] [--embedding auto|q4|float] [--safetensors f32|bf16] [--base-nf4]';

/** A flag's value among `choices`, or a usage error naming the flag. */
function choice<T>(flag: string, value: string, choices: Record<string, T>): T {
  if (!Object.hasOwn(choices, value)) throw new Error(`--${flag} must be ${Object.keys(choices).join(', ')}; got "${value}"`);
  return choices[value]!;
}

runCli(async () => {
  const { values } = parseArgs({
    options: {
      base: { type: 'string' },
      adapter: { type: 'string' },
      out: { type: 'string' },
      fp32: { type: 'string', default: 'auto' },
      q4f16: { type: 'string', default: 'yes' },
      'external-data': { type: 'string', default: 'auto' },
      embedding: { type: 'string', default: 'auto' },
      safetensors: { type: 'string' },
      'base-nf4': { type: 'boolean', default: false },
    },
  });
  const { base, adapter, out } = values;
  if (!base || !adapter || !out) throw new Error(USAGE);
  const autoYesNo = { auto: 'auto', yes: true, no: false } as const;
  const fp32 = choice('fp32', values.fp32, autoYesNo);
  const q4f16 = choice('q4f16', values.q4f16, { yes: true, no: false });
  const externalData = choice('external-data', values['external-data'], autoYesNo);
  const embedding = choice('embedding', values.embedding, { auto: 'auto', q4: 'q4', float: 'float' } as const);
  const safetensors =
    values.safetensors === undefined ? undefined : choice('safetensors', values.safetensors, { f32: 'F32', bf16: 'BF16' } as const);

  const started = Date.now();
  const summary = await mergeToTransformersJs({
    baseDir: base,
    adapterDir: adapter,
    outDir: out,
    fp32,
    q4f16,
    externalData,
    embedding,
    safetensors,
    baseNf4: values['base-nf4'],
    log: console.log,
  });
  for (const warning of summary.warnings) console.warn(`warning: ${warning}`);
  console.log(`merged ${summary.merged.length} projections in ${((Date.now() - started) / 1000).toFixed(1)} s; wrote to ${out}:`);
  for (const f of summary.files) console.log(`  ${f.path}  ${(f.bytes / 2 ** 20).toFixed(2)} MiB`);
  // ru_maxrss: the most this process ever held in RAM (KiB on Linux), read by `npm run verify:llama`.
  console.log(`peak resident memory ${((process.resourceUsage().maxRSS * 1024) / 2 ** 30).toFixed(2)} GiB`);
});
