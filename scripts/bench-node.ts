/**
 * npm run bench:node -- [--model-dir DIR] [--warmup 10] [--matmul-size 512] [--matmul-runs 50] [--seed 1] [--json]
 *
 * Our model beside a DistilBERT-shaped peer (src/bench/peer-model.ts: distilbert-base's shapes,
 * int8, random weights) in one process, on the probe set's queries, one query at a time, on
 * onnxruntime-node (CPU) and on onnxruntime-web's WASM backend running in Node. Both models go
 * through the same `CustomEngine` (tokenise, run, softmax, top-k) with the same SESSION_OPTIONS,
 * and both runtimes get one thread (`intraOpNumThreads: 1`, `env.wasm.numThreads = 1`), so the
 * native and WASM figures compare single core to single core.
 *
 * Also: FLOPs per query at the mean probe token count, an fp32 square-matmul rate per runtime
 * (input times a constant, as in the models), and the floor, FLOPs / WASM matmul rate (and / the
 * native rate for the onnxruntime-node rows), set beside the mean latency. An fp32 rate is the
 * right divisor: both models are int8 in the file but float32 in memory and compute (ours
 * dequantises with `Cast -> Mul` on initializers, the peer with DequantizeLinear; onnxruntime
 * constant-folds both at load, the peer's because SESSION_OPTIONS sets `disable_quant_qdq`).
 *
 * The peer reads our tokenizer's ids, so its token count is ours: the assumption is that
 * DistilBERT's WordPiece (30,522 entries, plus [CLS] and [SEP]) cuts these short English queries
 * into about as many pieces as our 3,000-entry vocabulary does.
 *
 * With --json the last line is one JSON object. Every option, with its default: `npm run bench:node -- --help`.
 */
import { readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { flopsPerQuery, measureMatmulRate, type MatmulRate } from '../src/bench/flops';
import { percentile } from '../src/bench/metrics';
import { buildPeerModel, DISTILBERT_SHAPE, peerSource } from '../src/bench/peer-model';
import { PROBE_SET, verifyProbeSet } from '../src/bench/probe-set';
import type { Device } from '../src/core/prediction';
import { parseModelConfig } from '../src/models/custom/config';
import { countParameters } from '../src/models/custom/model';
import { CustomEngine, type OrtModule } from '../src/engine/custom-engine';
import type { ModelSource } from '../src/engine/model-source';
import { DEFAULT_MODEL_DIR } from '../src/engine/custom-node-engine';
import { directorySource } from '../src/engine/node-source';
import { SESSION_OPTIONS } from '../src/engine/session-options';
import { customTokenizerFromFiles } from '../src/tokenizer/hf-tokenizer';
import { defineCommand, positiveInt, requireDir, runCli } from './lib/cli';
import { startProgress } from './lib/progress';

/** onnxruntime-node with every session on one thread: the same core count as single-threaded WASM. */
const NODE_ONE_THREAD = { intraOpNumThreads: 1, interOpNumThreads: 1 } as const;
const nodeOrt: OrtModule = {
  Tensor: ortNode.Tensor,
  InferenceSession: { create: (model, options) => ortNode.InferenceSession.create(model, { ...options, ...NODE_ONE_THREAD }) },
};

type Backend = 'node-cpu' | 'web-wasm';
const RUNTIMES: Record<Backend, { ort: OrtModule; device: Device; executionProviders: ['cpu'] | ['wasm'] }> = {
  'node-cpu': { ort: nodeOrt, device: 'cpu', executionProviders: ['cpu'] },
  'web-wasm': { ort: ortWeb, device: 'wasm', executionProviders: ['wasm'] },
};

interface Run {
  backend: Backend;
  model: 'custom' | 'peer';
  load_ms: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  mean_ms: number;
}

const command = defineCommand({
  command: 'npm run bench:node --',
  summary: `Our model beside a DistilBERT-shaped peer (distilbert-base's shapes, int8, random weights) in one Node process,
    on the probe set's queries one at a time, on onnxruntime-node (CPU) and on onnxruntime-web's WASM backend, one
    thread each; with FLOPs per query, an fp32 matmul rate per runtime and the floor (FLOPs / matmul rate).`,
  options: {
    'model-dir': { type: 'string', value: 'DIR', default: DEFAULT_MODEL_DIR, description: "our model's folder" },
    warmup: { type: 'string', value: 'N', default: '10', description: 'untimed queries before each timed pass' },
    'matmul-size': { type: 'string', value: 'N', default: '512', description: 'size of the square fp32 MatMul timed per runtime' },
    'matmul-runs': { type: 'string', value: 'N', default: '50', description: 'timed runs of that MatMul' },
    seed: { type: 'string', value: 'N', default: '1', description: "seed of the peer's random weights" },
    json: { type: 'boolean', default: false, description: 'end with one JSON object' },
  },
  notes: ['Progress (queries timed, with the time left) goes to standard error; on a terminal it is a bar.'],
  examples: ['npm run bench:node', 'npm run bench:node -- --model-dir models/my-bank --json'],
});

runCli(async () => {
  const { values } = command.parse();
  requireDir(values['model-dir'], '--model-dir');
  const warmup = positiveInt(values.warmup, 'warmup', 10);
  const matmulSize = positiveInt(values['matmul-size'], 'matmul-size', 512);
  const matmulRuns = positiveInt(values['matmul-runs'], 'matmul-runs', 50);
  const log = (line: string) => process.stderr.write(line + '\n');

  ortWeb.env.wasm.wasmPaths = pathToFileURL(join(process.cwd(), 'node_modules/onnxruntime-web/dist/')).href;
  ortWeb.env.wasm.numThreads = 1;
  ortWeb.env.logLevel = 'error';

  const loadBefore = loadavg()[0]!;
  await verifyProbeSet();
  const texts = PROBE_SET.items.map((item) => item.text);

  const modelDir = values['model-dir'];
  const readJson = async (file: string) => JSON.parse(await readFile(join(modelDir, file), 'utf8')) as unknown;
  const config = parseModelConfig(await readJson('config.json'));
  const spelling = config.files.spelling === undefined ? undefined : await readJson(config.files.spelling);
  const tokenizer = customTokenizerFromFiles(await readJson(config.files.tokenizer), spelling, config.files).toJSON();

  // First, while the heap is small: building the peer leaves hundreds of MB for the collector.
  log(`timing a ${matmulSize}x${matmulSize} fp32 MatMul ...`);
  const matmul: Record<Backend, MatmulRate> = {
    'node-cpu': await measureMatmulRate(ortNode, {
      size: matmulSize,
      runs: matmulRuns,
      sessionOptions: { ...SESSION_OPTIONS, ...NODE_ONE_THREAD, executionProviders: ['cpu'] },
    }),
    'web-wasm': await measureMatmulRate(ortWeb, {
      size: matmulSize,
      runs: matmulRuns,
      sessionOptions: { ...SESSION_OPTIONS, executionProviders: ['wasm'] },
    }),
  };

  log('building the DistilBERT-shaped peer ...');
  // The peer's head as wide as ours (77 intents, and out_of_scope where the model has it).
  const peer = buildPeerModel({ ...DISTILBERT_SHAPE, numLabels: config.labels.length }, positiveInt(values.seed, 'seed', 1));
  log(`  ${(peer.bytes.byteLength / 1e6).toFixed(1)} MB, ${(peer.parameters / 1e6).toFixed(1)}M parameters, ${peer.buildMs.toFixed(0)} ms`);
  const sources: Record<Run['model'], ModelSource> = {
    custom: directorySource(modelDir),
    peer: peerSource(peer, { config, tokenizer }),
  };

  // One engine at a time, each warmed up and then timed over every query, so one model's weights
  // never evict the other's from the caches between queries.
  const runs: Run[] = [];
  const tokenCounts: Record<Run['model'], number[]> = { custom: [], peer: [] };
  const truncated: Record<Run['model'], number> = { custom: 0, peer: 0 };
  const modelBytes: Record<Run['model'], number> = { custom: 0, peer: 0 };
  const passes = 4; // two runtimes, two models
  const progress = startProgress({ title: 'bench:node', total: passes * (Math.min(warmup, texts.length) + texts.length), unit: 'queries' });
  for (const backend of ['node-cpu', 'web-wasm'] as const) {
    for (const model of ['custom', 'peer'] as const) {
      progress.log(`${backend} ${model} ...`, 'stderr');
      const runtime = RUNTIMES[backend];
      const loadStarted = performance.now();
      const engine = await CustomEngine.load(sources[model], { ...runtime, modelId: model });
      const loadMs = performance.now() - loadStarted;
      modelBytes[model] = engine.modelBytes;
      if (tokenCounts[model].length === 0) {
        for (const text of texts) {
          const encoded = engine.tokenizer.encode(text, engine.config.maxTokens);
          tokenCounts[model].push(encoded.ids.length);
          if (encoded.truncated) truncated[model]++;
        }
      }
      for (const text of texts.slice(0, warmup)) {
        await engine.classify(text);
        progress.increment();
      }
      const latencies: number[] = [];
      for (const text of texts) {
        const started = performance.now();
        await engine.classify(text);
        latencies.push(performance.now() - started);
        progress.increment();
      }
      await engine.dispose();
      runs.push({
        backend,
        model,
        load_ms: loadMs,
        p50_ms: percentile(latencies, 50),
        p95_ms: percentile(latencies, 95),
        p99_ms: percentile(latencies, 99),
        mean_ms: latencies.reduce((a, b) => a + b, 0) / latencies.length,
      });
    }
  }

  progress.stop();

  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const describeModel = (model: Run['model']) => {
    const shape = model === 'custom' ? config : peer.shape;
    const members = model === 'custom' ? config.members : 1;
    const meanTokens = mean(tokenCounts[model]);
    const flops = flopsPerQuery(shape, meanTokens, members);
    const floor = (backend: Backend) => flops.total / (matmul[backend].gflops * 1e6);
    return {
      bytes: modelBytes[model],
      parameters: members * countParameters(shape),
      members,
      mean_tokens: meanTokens,
      truncated: truncated[model],
      flops_per_query: flops.total,
      flops,
      /** The floor the issue asks for: FLOPs per query / WASM matmul rate. */
      floor_wasm_ms: floor('web-wasm'),
      floor_node_ms: floor('node-cpu'),
    };
  };
  const models = { custom: describeModel('custom'), peer: { ...describeModel('peer'), build_ms: peer.buildMs } };
  const run = (backend: Backend, model: Run['model']) => runs.find((r) => r.backend === backend && r.model === model)!;
  const latencyRatio = (backend: Backend, key: 'p50_ms' | 'p95_ms' | 'p99_ms') => run(backend, 'custom')[key] / run(backend, 'peer')[key];
  const ratios = {
    size: models.custom.bytes / models.peer.bytes,
    parameters: models.custom.parameters / models.peer.parameters,
    flops: models.custom.flops_per_query / models.peer.flops_per_query,
    latency_p50: { 'node-cpu': latencyRatio('node-cpu', 'p50_ms'), 'web-wasm': latencyRatio('web-wasm', 'p50_ms') },
    latency_p95: { 'node-cpu': latencyRatio('node-cpu', 'p95_ms'), 'web-wasm': latencyRatio('web-wasm', 'p95_ms') },
    latency_p99: { 'node-cpu': latencyRatio('node-cpu', 'p99_ms'), 'web-wasm': latencyRatio('web-wasm', 'p99_ms') },
  };

  const ms = (x: number) => x.toFixed(2).padStart(8);
  const ratio = (x: number) => (x >= 0.01 ? x.toFixed(3) : x.toExponential(2));
  const name = { custom: `custom (${config.members}x d${config.dModel} L${config.layers})`, peer: 'distilbert-shaped peer' };
  console.log(`probe set ${PROBE_SET.id}: ${texts.length} queries, one at a time after ${warmup} warm-up queries; 1 thread per runtime`);
  console.log(
    `tokens per query (our tokenizer, the peer reads the same ids): mean ${models.custom.mean_tokens.toFixed(1)}, ` +
      `truncated ${models.custom.truncated} (custom, max ${config.maxTokens}) / ${models.peer.truncated} (peer, max ${peer.shape.maxTokens})`,
  );
  console.log('');
  console.log('runtime   model                        load ms   p50 ms   p95 ms   p99 ms  mean ms  floor ms  mean/floor');
  for (const r of runs) {
    const floor = r.backend === 'node-cpu' ? models[r.model].floor_node_ms : models[r.model].floor_wasm_ms;
    console.log(
      `${r.backend.padEnd(9)} ${name[r.model].padEnd(26)} ${r.load_ms.toFixed(0).padStart(9)} ${ms(r.p50_ms)} ${ms(r.p95_ms)} ${ms(r.p99_ms)}` +
        ` ${ms(r.mean_ms)} ${ms(floor)}  ${(r.mean_ms / floor).toFixed(1).padStart(10)}`,
    );
  }
  console.log("floor: FLOPs per query at the mean token count / this runtime's matmul rate, so it is compared with the mean latency");
  console.log('');
  console.log('model                        file bytes   parameters  MFLOP/query  floor ms (WASM)');
  for (const model of ['custom', 'peer'] as const) {
    const m = models[model];
    console.log(
      `${name[model].padEnd(26)} ${String(m.bytes).padStart(12)} ${String(m.parameters).padStart(12)} ${(m.flops_per_query / 1e6).toFixed(1).padStart(12)} ${ms(m.floor_wasm_ms)}`,
    );
  }
  console.log('');
  for (const backend of ['node-cpu', 'web-wasm'] as const) {
    const rate = matmul[backend];
    console.log(
      `matmul    ${backend}: ${rate.size}x${rate.size} fp32, median ${rate.medianMs.toFixed(2)} ms = ${rate.gflops.toFixed(1)} GFLOP/s (fastest run: ${rate.peakGflops.toFixed(1)})`,
    );
  }
  console.log(
    `ratios    custom/peer: size ${ratio(ratios.size)}, parameters ${ratio(ratios.parameters)}, FLOPs ${ratio(ratios.flops)}, ` +
      `p50 latency ${ratio(ratios.latency_p50['node-cpu'])} (node-cpu) ${ratio(ratios.latency_p50['web-wasm'])} (web-wasm), ` +
      `p95 ${ratio(ratios.latency_p95['node-cpu'])} / ${ratio(ratios.latency_p95['web-wasm'])}`,
  );
  const loadAfter = loadavg()[0]!;
  console.log(
    `machine   1-minute load average ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after (other processes share the cores)`,
  );
  console.log(`peer      built in ${peer.buildMs.toFixed(0)} ms; random int8 weights, so its predictions are meaningless (speed only)`);

  if (values.json) {
    console.log(
      JSON.stringify({
        probe_set: PROBE_SET.id,
        queries: texts.length,
        warmup,
        threads: 1,
        load_average: { before: loadBefore, after: loadAfter },
        token_assumption: 'the peer reads our tokenizer ids: its token count per query equals ours',
        matmul,
        models,
        runs,
        ratios,
      }),
    );
  }
});
