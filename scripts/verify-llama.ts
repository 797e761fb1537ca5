/**
 * npm run verify:llama -- --shape llama-3.2-1b|llama-3.2-3b|llama-3.1-8b [--layers N] [--vocab N] [--dir DIR]
 *                         [--messages N] [--profile] [--browser] [--external-data auto|yes|no] [--keep]
 *
 * The Llama path at the size a bank ships, checked end to end on a random checkpoint of that shape:
 *   1. checkpoint  writes BASE (sharded BF16 safetensors, as Hugging Face saves one) and ADAPTER (a
 *                  PEFT LoRA, r=16 on all seven projections; see src/convert/llama/scale.ts)
 *   2. merge       `merge-qlora` on the two, as a user runs it → OUT (q4 and q4f16, external data if needed)
 *   3. q4          transformers.js loads OUT/onnx/model_q4.onnx in Node through the runtime's engine
 *                  (src/engine/llama-engine.ts) and classifies a few messages (any label: the weights are random)
 *   4. q4f16       the same for OUT/onnx/model_q4f16.onnx (transformers.js with dtype q4f16, device cpu)
 *   5. profile     (--profile) where one query's time goes: prefill, label steps, scoring (q4)
 *   6. browser     (--browser) OUT in Chromium through transformers.js's web build: q4 on WASM and
 *                  WebGPU, q4f16 where the adapter has shader-f16, logits compared with Node's
 * Each step runs in a process of its own, so the peak resident memory printed for it is its own
 * (`process.resourceUsage().maxRSS`). Time, peak memory and file sizes are printed per step, and
 * the whole as one `verify-llama:` JSON line at the end.
 *
 * --layers N keeps the width and vocabulary and cuts the depth (e.g. the 8B shape with 4 layers);
 * --vocab N shrinks the vocabulary (tests); --dir DIR works there and keeps it (default: a temporary
 * folder, removed at the end unless --keep); --external-data is passed to merge-qlora (default auto:
 * only a graph over 2 GiB gets it; `yes` exercises it on a smaller model).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { defineCommand, runCli, UsageError } from './lib/cli';
import { LLAMA_SHAPES, parameterCount, shapeConfig, writeRandomCheckpoint, type LlamaShapeName } from '../src/convert/llama/scale';

const MESSAGES = [
  'I still have not received my new card',
  'How do I top up my account with Apple Pay?',
  'Why was I charged a fee for my transfer?',
  'My card payment was declined at the shop',
  'What is the exchange rate for euros?',
];

const SCRIPT = process.argv[1]!;
const maxRss = () => process.resourceUsage().maxRSS * 1024;
const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(2)} GiB`;
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

interface StepResult {
  step: string;
  seconds: number;
  peakBytes: number;
  [key: string]: unknown;
}

/** Runs `args` as a child (this script, or another), streams its output, returns its stdout. */
async function child(args: string[], label: string): Promise<{ stdout: string; seconds: number }> {
  const started = performance.now();
  const proc = spawn(process.execPath, [...process.execArgv, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  proc.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const line of chunk.toString().split('\n'))
      if (line && !line.startsWith('step-result:')) process.stdout.write(`  [${label}] ${line}\n`);
  });
  const code = await new Promise<number | null>((done, fail) => {
    proc.on('error', fail);
    proc.on('exit', (c, signal) => done(signal ? 128 : c));
  });
  if (code !== 0) throw new Error(`step ${label} failed (exit ${code})`);
  return { stdout, seconds: (performance.now() - started) / 1000 };
}

function stepResult(stdout: string): StepResult {
  const line = stdout.split('\n').find((l) => l.startsWith('step-result:'));
  if (!line) throw new Error('a step printed no result');
  return JSON.parse(line.slice('step-result:'.length)) as StepResult;
}

async function folderFiles(dir: string): Promise<{ path: string; bytes: number }[]> {
  const out: { path: string; bytes: number }[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out.push({ path: path.slice(dir.length + 1), bytes: (await stat(path)).size });
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

// ---------------------------------------------------------------------------------------------
// Steps (each in its own process)
// ---------------------------------------------------------------------------------------------

async function stepCheckpoint(values: Record<string, string | boolean | undefined>): Promise<StepResult> {
  const config = shapeConfig(values.shape as LlamaShapeName, overrides(values));
  const started = performance.now();
  const files = await writeRandomCheckpoint(config, String(values.base), String(values.adapter));
  return { step: 'checkpoint', seconds: (performance.now() - started) / 1000, peakBytes: maxRss(), files };
}

/** Loads OUT with transformers.js at `dtype` and classifies the messages; q4 through the runtime's engine. */
async function stepClassify(values: Record<string, string | boolean | undefined>): Promise<StepResult> {
  const out = String(values.out);
  const dtype = String(values.dtype) as 'q4' | 'q4f16';
  const messages = MESSAGES.slice(0, Number(values.messages ?? 3));
  const answers: { message: string; intent: string; confidence: number; ms: number }[] = [];
  const started = performance.now();
  let loadSeconds: number;
  if (dtype === 'q4') {
    const { loadNodeLlamaEngine } = await import('../src/adapters/llama-node');
    const engine = await loadNodeLlamaEngine({ modelDir: out, dtype });
    loadSeconds = (performance.now() - started) / 1000;
    for (const message of messages) {
      const p = await engine.classify(message, { topK: 5 });
      answers.push({ message, intent: p.intent, confidence: p.confidence, ms: p.latency_ms });
    }
    await engine.dispose();
  } else {
    // The engine runs q4f16 only on WebGPU with shader-f16 (Node has neither): load it with transformers.js directly.
    const { model, tokenizer, spec, seconds } = await loadDirect(out, dtype);
    loadSeconds = seconds;
    const { classifyWithLlama } = await import('../src/engine/llama-constrained-decoding');
    for (const message of messages) {
      const t = performance.now();
      const r = await classifyWithLlama({
        model,
        tokenizer,
        prompt: spec.prompt.replace('{text}', message),
        labels: spec.labels,
        separator: spec.separator,
        topK: 5,
      });
      answers.push({ message, intent: r.alternatives![0]!.label, confidence: r.alternatives![0]!.probability, ms: performance.now() - t });
    }
    await model.dispose();
  }
  for (const a of answers) console.log(`"${a.message}" → ${a.intent} (${(100 * a.confidence).toFixed(1)}%) in ${a.ms.toFixed(0)} ms`);
  return { step: dtype, seconds: (performance.now() - started) / 1000, loadSeconds, peakBytes: maxRss(), answers };
}

async function loadDirect(out: string, dtype: string) {
  const transformers = await import('@huggingface/transformers');
  const { parseClassifierSpec } = await import('../src/engine/llama-engine');
  const { env, AutoModelForCausalLM, AutoTokenizer } = transformers;
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = dirname(resolve(out)) + '/';
  const id = basename(resolve(out));
  const started = performance.now();
  const tokenizer = await AutoTokenizer.from_pretrained(id);
  const model = await AutoModelForCausalLM.from_pretrained(id, { dtype: dtype as 'q4', device: 'cpu' });
  const spec = parseClassifierSpec(JSON.parse(await readFile(join(out, 'classifier.json'), 'utf8')));
  return { model, tokenizer, spec, seconds: (performance.now() - started) / 1000 };
}

/**
 * Where one query's time goes (q4, Node, after a warm-up query), for the query path as it was and as
 * it is: every model call is timed and put in a bucket (the prompt's prefill; calls that read the
 * prompt's cache: decoding steps, or the label search; calls that re-read the whole prompt: the old
 * exact scoring); what is left is JavaScript around them. "before" also computes the logits of every
 * prompt position, as the graph did before it had `num_logits_to_keep`.
 */
async function stepProfile(values: Record<string, string | boolean | undefined>): Promise<StepResult> {
  const out = String(values.out);
  const { model, tokenizer, spec, seconds } = await loadDirect(out, 'q4');
  const { classifyWithLlama, classifyWithLlamaExhaustive } = await import('../src/engine/llama-constrained-decoding');
  const { Tensor } = await import('@huggingface/transformers');
  const calls: { kind: string; rows: number; tokens: number; ms: number }[] = [];
  let allLogits = false;
  const forward = model.forward.bind(model);
  model.forward = async (inputs: Record<string, unknown>) => {
    const ids = inputs.input_ids as { dims: number[] };
    const mask = inputs.attention_mask as { dims: number[] };
    if (allLogits) inputs.num_logits_to_keep = new Tensor('int64', BigInt64Array.of(0n), []);
    const t = performance.now();
    const result = await forward(inputs);
    const [rows, tokens] = ids.dims as [number, number];
    const past = mask.dims[1]! - tokens;
    const kind = calls.length === 0 ? 'prefill' : past > 0 ? 'cached calls' : 'uncached scoring';
    calls.push({ kind, rows, tokens, ms: performance.now() - t });
    return result;
  };
  const paths = {
    before: { run: classifyWithLlamaExhaustive, allLogits: true },
    'before + num_logits_to_keep': { run: classifyWithLlamaExhaustive, allLogits: false },
    now: { run: classifyWithLlama, allLogits: false },
  };
  type Buckets = Record<string, { calls: number; rows: number; tokens: number; ms: number }>;
  const queries: { path: string; message: string; totalMs: number; top: string[]; buckets: Buckets }[] = [];
  const messages = MESSAGES.slice(0, Number(values.messages ?? 3));
  for (const [path, { run, allLogits: all }] of Object.entries(paths)) {
    allLogits = all;
    const query = async (message: string) => {
      calls.length = 0;
      const t = performance.now();
      const r = await run({
        model,
        tokenizer,
        prompt: spec.prompt.replace('{text}', message),
        labels: spec.labels,
        separator: spec.separator,
        topK: 5,
      });
      return { totalMs: performance.now() - t, top: r.alternatives!.map((a) => a.label) };
    };
    await query(MESSAGES[0]!); // warm-up
    for (const message of messages) {
      const { totalMs, top } = await query(message);
      const buckets: Buckets = {};
      for (const c of calls) {
        const b = (buckets[c.kind] ??= { calls: 0, rows: 0, tokens: 0, ms: 0 });
        b.calls++;
        b.rows += c.rows;
        b.tokens += c.rows * c.tokens;
        b.ms += c.ms;
      }
      buckets['other (JavaScript)'] = { calls: 0, rows: 0, tokens: 0, ms: totalMs - calls.reduce((sum, c) => sum + c.ms, 0) };
      queries.push({ path, message, totalMs, top, buckets });
      console.log(`${path}: "${message}": ${totalMs.toFixed(0)} ms, top 5 ${top.join(', ')}`);
      for (const [kind, b] of Object.entries(buckets))
        console.log(
          `  ${kind.padEnd(20)} ${b.ms.toFixed(0).padStart(7)} ms  ${b.calls ? `${b.calls} call(s), ${b.rows} row(s), ${b.tokens} token(s)` : ''}`,
        );
    }
  }
  await model.dispose();
  return { step: 'profile', seconds, peakBytes: maxRss(), queries };
}

/**
 * OUT in Chromium through transformers.js's web build, as the worker loads it: `model_q4.onnx` on
 * WASM and on WebGPU (with `--enable-unsafe-webgpu` and no GPU that is SwiftShader), and
 * `model_q4f16.onnx` where the adapter has `shader-f16`; each in a fresh page, its logits for one
 * prompt compared with Node's. Needs Chromium (see scripts/lib/browser.ts).
 */
async function stepBrowser(values: Record<string, string | boolean | undefined>): Promise<StepResult> {
  const { createServer } = await import('node:http');
  const { extname } = await import('node:path');
  const { launchChromium } = await import('./lib/browser');
  const out = resolve(String(values.out));
  const started = performance.now();
  const { model, tokenizer, spec } = await loadDirect(out, 'q4');
  const { Tensor } = await import('@huggingface/transformers');
  const ids = tokenizer.encode(spec.prompt.replace('{text}', MESSAGES[0]!));
  const tensor = (data: number[]) => new Tensor('int64', BigInt64Array.from(data.map(BigInt)), [1, data.length]);
  const reference = Array.from(
    ((await model({ input_ids: tensor(ids), attention_mask: tensor(ids.map(() => 1)) })) as { logits: { data: Float32Array } }).logits.data,
  );
  await model.dispose();

  const tjs = resolve('node_modules/@huggingface/transformers');
  const routes: [string, string][] = [
    ['/tjs/', join(tjs, 'dist')],
    ['/ort/', join(tjs, 'node_modules/onnxruntime-web/dist')],
    ['/common/', join(tjs, 'node_modules/onnxruntime-common/dist/esm')],
    ['/models/', dirname(out)],
  ];
  const page = `<!doctype html><script type="importmap">{"imports":{"onnxruntime-web/webgpu":"/ort/ort.webgpu.min.mjs","onnxruntime-common":"/common/index.js"}}</script>`;
  const server = createServer((req, res) => {
    const path = new URL(req.url!, 'http://localhost').pathname;
    if (path === '/') return void res.writeHead(200, { 'content-type': 'text/html' }).end(page);
    const route = routes.find(([prefix]) => path.startsWith(prefix));
    const file = route && join(route[1], decodeURIComponent(path.slice(route[0].length)));
    const type = { '.mjs': 'text/javascript', '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' }[
      extname(file ?? '')
    ];
    if (!file) return void res.writeHead(404).end();
    readFile(file).then(
      (body) => res.writeHead(200, { 'content-type': type ?? 'application/octet-stream' }).end(body),
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const browser = await launchChromium({ webgpu: true });
  const runs: { device: string; dtype: string; result: string; maxDiff?: number; seconds?: number }[] = [];
  try {
    const fresh = async () => {
      const p = await browser.newPage();
      // tsx compiles the functions handed to the page with esbuild's keep-names helper: give the page one.
      await p.addInitScript('globalThis.__name = (f) => f;');
      await p.goto(origin + '/');
      return p;
    };
    const probe = await fresh();
    const f16 = await probe.evaluate(async () => {
      const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<{ features: Set<string> } | null> } }).gpu;
      return (await gpu?.requestAdapter())?.features.has('shader-f16') ?? false;
    });
    await probe.close();
    for (const [device, dtype] of [
      ['wasm', 'q4'],
      ['webgpu', 'q4'],
      ['webgpu', 'q4f16'],
    ] as const) {
      if (dtype === 'q4f16' && !f16) {
        runs.push({ device, dtype, result: 'skipped: the WebGPU adapter has no shader-f16' });
        continue;
      }
      const p = await fresh();
      const t = performance.now();
      const r = await p.evaluate(
        async ({ device, dtype, ids, id }) => {
          try {
            const t = (await import('/tjs/transformers.web.js' as string)) as typeof import('@huggingface/transformers');
            t.env.allowRemoteModels = false;
            t.env.allowLocalModels = true;
            t.env.localModelPath = '/models/';
            t.env.useBrowserCache = false;
            (t.env.backends.onnx.wasm as { wasmPaths: string }).wasmPaths = '/ort/';
            const model = await t.AutoModelForCausalLM.from_pretrained(id, { device, dtype });
            const tensor = (data: number[]) => new t.Tensor('int64', BigInt64Array.from(data.map(BigInt)), [1, data.length]);
            const o = (await model({ input_ids: tensor(ids), attention_mask: tensor(ids.map(() => 1)) })) as {
              logits: { data: Float32Array };
            };
            const logits = Array.from(o.logits.data);
            await model.dispose();
            return { logits };
          } catch (error) {
            return { error: String((error as Error).message ?? error).slice(0, 300) };
          }
        },
        { device, dtype, ids, id: basename(out) },
      );
      await p.close();
      if ('error' in r) runs.push({ device, dtype, result: `failed: ${r.error}` });
      else {
        const maxDiff = r.logits!.reduce((m, v, i) => Math.max(m, Math.abs(v - reference[i]!)), 0);
        runs.push({ device, dtype, result: 'ok', maxDiff, seconds: (performance.now() - t) / 1000 });
      }
      const last = runs.at(-1)!;
      console.log(
        `${device} ${dtype}: ${last.result}${last.maxDiff === undefined ? '' : `, max |logit - Node's| ${last.maxDiff.toExponential(1)}, ${last.seconds!.toFixed(1)} s`}`,
      );
    }
  } finally {
    await browser.close();
    server.close();
  }
  return { step: 'browser', seconds: (performance.now() - started) / 1000, peakBytes: maxRss(), runs };
}

function overrides(values: Record<string, string | boolean | undefined>) {
  return {
    layers: values.layers === undefined ? undefined : Number(values.layers),
    vocab: values.vocab === undefined ? undefined : Number(values.vocab),
  };
}

// ---------------------------------------------------------------------------------------------
// The orchestrator
// ---------------------------------------------------------------------------------------------

const command = defineCommand({
  command: 'npm run verify:llama --',
  summary: `The Llama path at the size a bank ships, checked end to end on a random checkpoint of that shape: writes a
    sharded BF16 base and a PEFT LoRA adapter, runs merge-qlora on them, loads the q4 and q4f16 files with
    transformers.js and classifies a few messages; optionally profiles one query (--profile) and runs the files in
    Chromium on WASM and WebGPU (--browser). Each step runs in its own process; time, peak memory and file sizes are
    printed per step, and the whole as one JSON line at the end.`,
  options: {
    shape: {
      type: 'string',
      choices: Object.keys(LLAMA_SHAPES),
      defaultText: 'required',
      description: 'the checkpoint shape to build',
    },
    layers: {
      type: 'string',
      value: 'N',
      defaultText: "the shape's",
      description: 'keep the width and vocabulary, cut the depth to N layers',
    },
    vocab: { type: 'string', value: 'N', defaultText: "the shape's", description: 'shrink the vocabulary to N (tests)' },
    dir: { type: 'string', value: 'DIR', defaultText: 'a temporary folder, removed at the end', description: 'work there and keep it' },
    messages: { type: 'string', value: 'N', default: '3', description: 'messages classified per step' },
    profile: { type: 'boolean', default: false, description: "also show where one query's time goes (q4)" },
    browser: { type: 'boolean', default: false, description: 'also run the files in headless Chromium (WASM, WebGPU)' },
    keep: { type: 'boolean', default: false, description: 'keep the temporary folder' },
    'external-data': {
      type: 'string',
      default: 'auto',
      choices: ['auto', 'yes', 'no'],
      description: 'passed to merge-qlora (yes exercises external data on a smaller model)',
    },
    // Internal: run one step in this process.
    step: { type: 'string', hidden: true, description: 'internal: one step' },
    base: { type: 'string', hidden: true, description: 'internal' },
    adapter: { type: 'string', hidden: true, description: 'internal' },
    out: { type: 'string', hidden: true, description: 'internal' },
    dtype: { type: 'string', hidden: true, description: 'internal' },
  },
  examples: ['npm run verify:llama -- --shape llama-3.2-1b', 'npm run verify:llama -- --shape llama-3.1-8b --layers 4 --profile'],
});

runCli(async () => {
  const { values } = command.parse();
  if (values.step) {
    const steps = { checkpoint: stepCheckpoint, classify: stepClassify, profile: stepProfile, browser: stepBrowser } as const;
    const run = steps[values.step as keyof typeof steps];
    if (!run) throw new Error(`unknown step ${values.step}`);
    console.log(`step-result:${JSON.stringify(await run(values))}`);
    return;
  }

  const shape = values.shape as LlamaShapeName | undefined;
  if (!shape) throw new UsageError(`--shape is required: one of ${Object.keys(LLAMA_SHAPES).join(', ')} (see --help)`);
  const config = shapeConfig(shape, overrides(values)); // validates the overrides
  const dir = values.dir ? resolve(values.dir) : await mkdtemp(join(tmpdir(), 'verify-llama-'));
  const [base, adapter, out] = ['base', 'adapter', 'out'].map((d) => join(dir, d)) as [string, string, string];
  const common = [
    '--shape',
    shape,
    ...(values.layers ? ['--layers', values.layers] : []),
    ...(values.vocab ? ['--vocab', values.vocab] : []),
  ];
  console.log(
    `verify-llama: ${shape}, ${config.num_hidden_layers} layers, vocabulary ${config.vocab_size}, ` +
      `${(parameterCount(config) / 1e9).toFixed(3)}B parameters, in ${dir}`,
  );
  const results: StepResult[] = [];
  const report = (r: StepResult, files?: { path: string; bytes: number }[]) => {
    results.push(r);
    console.log(`${r.step}: ${r.seconds.toFixed(1)} s, peak memory ${gib(r.peakBytes)}`);
    for (const f of files ?? []) console.log(`  ${f.path}  ${mib(f.bytes)}`);
  };
  try {
    await rm(out, { recursive: true, force: true });
    const checkpoint = await child([SCRIPT, '--step', 'checkpoint', ...common, '--base', base, '--adapter', adapter], 'checkpoint');
    const cp = stepResult(checkpoint.stdout);
    report(
      cp,
      (cp.files as { path: string; bytes: number }[]).map((f) => ({ ...f, path: f.path.slice(dir.length + 1) })),
    );

    const merge = await child(
      ['scripts/merge-qlora.ts', '--base', base, '--adapter', adapter, '--out', out, '--external-data', values['external-data']!],
      'merge',
    );
    const peak = /peak resident memory ([\d.]+) GiB/.exec(merge.stdout);
    const files = await folderFiles(out);
    report({ step: 'merge', seconds: merge.seconds, peakBytes: peak ? Number(peak[1]) * 2 ** 30 : NaN, files }, files);

    for (const dtype of ['q4', 'q4f16']) {
      const run = await child([SCRIPT, '--step', 'classify', '--out', out, '--dtype', dtype, '--messages', values.messages!], dtype);
      const r = stepResult(run.stdout);
      report(r);
      console.log(`  loaded in ${(r.loadSeconds as number).toFixed(1)} s`);
    }
    if (values.profile)
      report(stepResult((await child([SCRIPT, '--step', 'profile', '--out', out, '--messages', values.messages!], 'profile')).stdout));
    if (values.browser) report(stepResult((await child([SCRIPT, '--step', 'browser', '--out', out], 'browser')).stdout));

    const onnxBytes = (dtype: string) =>
      files.filter((f) => f.path.startsWith(`onnx/model_${dtype}.onnx`)).reduce((s, f) => s + f.bytes, 0);
    const summary = {
      shape,
      layers: config.num_hidden_layers,
      vocab: config.vocab_size,
      parameters: parameterCount(config),
      q4Bytes: onnxBytes('q4'),
      q4f16Bytes: onnxBytes('q4f16'),
      externalData: files.some((f) => f.path.includes('.onnx_data')),
      steps: results,
    };
    console.log(`q4 files ${gib(summary.q4Bytes)}, q4f16 files ${gib(summary.q4f16Bytes)}`);
    console.log(`verify-llama: ${JSON.stringify(summary)}`);
  } finally {
    if (!values.dir && !values.keep) await rm(dir, { recursive: true, force: true });
  }
});
