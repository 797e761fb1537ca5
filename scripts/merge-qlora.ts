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
 * The last line gives the process's peak resident memory. See src/convert/llama/merge-export.ts.
 */
import { mergeToTransformersJs } from '../src/convert/llama/merge-export';
import { defineCommand, requireDir, runCli, UsageError } from './lib/cli';
import { startProgress } from './lib/progress';

const command = defineCommand({
  command: 'npm run merge-qlora --',
  summary: `Merges a PEFT LoRA/QLoRA adapter (adapter_config.json + adapter_model.safetensors) into a Hugging Face Llama
    (config.json + *.safetensors, sharded or not; F32, F16 or BF16), quantises it to 4 bits and writes the folder
    transformers.js loads: onnx/model_q4.onnx and onnx/model_q4f16.onnx (+ onnx/model.onnx in float32 when it fits one
    file), external data when a graph would pass 2 GiB, config.json, the base's tokenizer files and the adapter's
    classifier.json. Memory stays bounded: tensors are read, merged and written one at a time.`,
  options: {
    base: { type: 'string', value: 'DIR', defaultText: 'required', description: 'the Hugging Face Llama folder' },
    adapter: { type: 'string', value: 'DIR', defaultText: 'required', description: 'the PEFT adapter folder' },
    out: { type: 'string', value: 'DIR', defaultText: 'required', description: 'where to write the transformers.js folder' },
    fp32: {
      type: 'string',
      default: 'auto',
      choices: ['auto', 'yes', 'no'],
      description: 'also write onnx/model.onnx in float32 (auto: when it fits one file)',
    },
    q4f16: { type: 'string', default: 'yes', choices: ['yes', 'no'], description: 'also write onnx/model_q4f16.onnx' },
    'external-data': {
      type: 'string',
      default: 'auto',
      choices: ['auto', 'yes', 'no'],
      description: 'weights in onnx/*.onnx_data (auto: for a graph over 2 GiB)',
    },
    embedding: {
      type: 'string',
      default: 'auto',
      choices: ['auto', 'q4', 'float'],
      description: 'the embedding table in the 4-bit files (float: kept in float32)',
    },
    safetensors: {
      type: 'string',
      choices: ['f32', 'bf16'],
      defaultText: 'not written',
      description: 'also write the merged weights as model.safetensors (e.g. to serve them with vLLM)',
    },
    'base-nf4': {
      type: 'boolean',
      default: false,
      description: "merge into the base's linear layers after an NF4 round trip (the weights a QLoRA adapter was trained on)",
    },
  },
  notes: [
    'The last line gives the peak resident memory. Progress (tensors merged, with the time left) goes to standard error; on a terminal it is a bar.',
  ],
  examples: [
    'npm run merge-qlora -- --base llama-3.2-1b --adapter my-adapter --out public/models/my-llama',
    'npm run merge-qlora -- --base BASE --adapter ADAPTER --out OUT --base-nf4 --safetensors bf16',
  ],
});

runCli(async () => {
  const { values } = command.parse();
  const { base, adapter, out } = values;
  const missing = (['base', 'adapter', 'out'] as const).filter((flag) => !values[flag]);
  if (missing.length > 0) throw new UsageError(`missing ${missing.map((flag) => `--${flag} DIR`).join(', ')} (see --help)`);
  requireDir(base!, '--base');
  requireDir(adapter!, '--adapter');
  const autoYesNo = { auto: 'auto', yes: true, no: false } as const;
  const fp32 = autoYesNo[values.fp32 as keyof typeof autoYesNo];
  const q4f16 = values.q4f16 === 'yes';
  const externalData = autoYesNo[values['external-data'] as keyof typeof autoYesNo];
  const embedding = values.embedding as 'auto' | 'q4' | 'float';
  const safetensors = values.safetensors === undefined ? undefined : values.safetensors === 'f32' ? 'F32' : 'BF16';

  const started = Date.now();
  const progress = startProgress({ title: 'merge', total: 1, unit: 'tensors' });
  const summary = await mergeToTransformersJs({
    baseDir: base!,
    adapterDir: adapter!,
    outDir: out!,
    fp32,
    q4f16,
    externalData,
    embedding,
    safetensors,
    baseNf4: values['base-nf4'],
    log: (line) => progress.log(line),
    onTensor: (_name, done, total) => {
      if (progress.total !== total) progress.setTotal(total);
      progress.update(done);
    },
  }).finally(() => progress.stop());
  for (const warning of summary.warnings) console.warn(`warning: ${warning}`);
  console.log(`merged ${summary.merged.length} projections in ${((Date.now() - started) / 1000).toFixed(1)} s; wrote to ${out}:`);
  for (const f of summary.files) console.log(`  ${f.path}  ${(f.bytes / 2 ** 20).toFixed(2)} MiB`);
  // ru_maxrss: the most this process ever held in RAM (KiB on Linux), read by `npm run verify:llama`.
  console.log(`peak resident memory ${((process.resourceUsage().maxRSS * 1024) / 2 ** 30).toFixed(2)} GiB`);
});
