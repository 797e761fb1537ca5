/**
 * Classifying with a causal LM under a label constraint: a label's probability is the product, over
 * its tokens and the EOS after them, of each token's probability renormalised over the tokens that
 * continue some label at that step (see `LabelTrie`). `classifyWithLlama` finds the most probable
 * labels exactly with one prefill of the prompt and a best-first search of the trie over the
 * prompt's key/value cache.
 *
 * The former path is kept as `classifyWithLlamaExhaustive` (for comparison and tests): greedy
 * decoding where every token that does not continue some label gets a logit of -Infinity, then
 * every label scored, each branch re-reading the prompt. `npm run verify:llama -- --profile` times
 * both.
 *
 * transformers.js 4.3.1 facts this relies on (read from its source, src/models/modeling_utils.js):
 * - `model.forward(inputs)` runs the graph once: `past_key_values` may be a plain object of
 *   `past_key_values.{i}.key/value` tensors; `position_ids` and `num_logits_to_keep` are used as
 *   given (inputs the graph lacks are dropped); the outputs are `logits` and `present.{i}.*`, which
 *   on WebGPU stay on the GPU (`location: 'gpu-buffer'`) until disposed.
 * - `generate({ logits_processor })` takes a `LogitsProcessorList`; its processors run after the
 *   model's own (repetition penalty, min length, ...) on the last position's logits, shaped
 *   [batch, vocab] in float32, and each `_call(input_ids: bigint[][], logits)` must return the
 *   logits (it may change them in place). `input_ids` holds the prompt and what was generated so far.
 * - `output_scores` exists in `GenerationConfig` but 4.3.1 does not return scores (the return value
 *   has `// TODO: scores`), and the greedy sampler reports a log-probability of 0. So the processor
 *   itself records, at each step, the softmax of the logits it sees renormalised over the allowed
 *   tokens, and the confidence is read from that record.
 */
import { LogitsProcessor, LogitsProcessorList, Tensor } from '@huggingface/transformers';
import type { PreTrainedModel, PreTrainedTokenizer } from '@huggingface/transformers';
import { LabelTrie } from './llama-label-trie';
import { ModelFormatError } from '../core/errors';

/** For each step, each allowed token's probability renormalised over the allowed tokens. */
export type StepDistributions = Map<number, number>[];

/** Softmax of `logits[offset + id]` over `ids` only. */
function renormalisedSoftmax(logits: Float32Array, offset: number, ids: readonly number[]): Map<number, number> {
  const max = Math.max(...ids.map((id) => logits[offset + id]!));
  const exps = ids.map((id) => Math.exp(logits[offset + id]! - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return new Map(ids.map((id, i) => [id, exps[i]! / sum]));
}

/**
 * Masks every logit that does not continue a label and records the renormalised distribution of
 * each step, per batch row (`steps[row][step]`). One instance serves one `generate` call.
 */
class LabelConstrainedLogitsProcessor extends LogitsProcessor {
  readonly steps: StepDistributions[] = [];

  constructor(
    private readonly trie: LabelTrie,
    /** Length of the (left-padded) prompt rows: ids after it are the generated ones. */
    private readonly promptLength: number,
  ) {
    super();
  }

  override _call(input_ids: bigint[][], logits: Tensor): Tensor {
    const vocab = logits.dims.at(-1)!;
    const data = logits.data as Float32Array;
    input_ids.forEach((row, b) => {
      const generated = row.slice(this.promptLength).map(Number);
      let allowed = this.trie.allowedNext(generated);
      const rowSteps = (this.steps[b] ??= []);
      // A row that already ended with its label's EOS, while others in the batch still run: keep
      // it at EOS (nothing is recorded, so its confidence is unchanged).
      if (allowed.length === 0) allowed = [this.trie.eosTokenId];
      else rowSteps.push(renormalisedSoftmax(data, b * vocab, allowed));
      const keep = new Set(allowed);
      for (let id = 0; id < vocab; id++) if (!keep.has(id)) data[b * vocab + id] = -Infinity;
    });
    return logits;
  }
}

/**
 * The ids `label` has where it follows `prompt` + `separator`: tokenize the two together and drop
 * the prompt's ids, so that merges across the boundary (a leading-space token in BPE vocabularies)
 * come out as they will in generation. Falls back to tokenizing `separator + label` alone when the
 * prompt's ids are not a prefix of the joint ids.
 */
export function labelTokenIds(tokenizer: PreTrainedTokenizer, prompt: string, label: string, separator = ' '): number[] {
  const encode = (s: string) => tokenizer.encode(s, { add_special_tokens: false });
  const promptIds = encode(prompt);
  const joint = encode(prompt + separator + label);
  const isPrefix = promptIds.every((id, i) => joint[i] === id);
  return isPrefix ? joint.slice(promptIds.length) : encode(separator + label);
}

export interface ClassifyWithLlamaOptions {
  model: PreTrainedModel;
  tokenizer: PreTrainedTokenizer;
  /** The prompt already built from the text to classify; the label is generated right after it. */
  prompt: string;
  labels: readonly string[];
  /** What separates the prompt from the label in the model's eyes (default one space). */
  separator?: string;
  /**
   * When set, also return the `topK` most probable labels with their exact probabilities
   * (`alternatives`). The search stops once they are known, so a larger `topK` costs more calls.
   */
  topK?: number;
}

export interface LlamaClassification {
  /** `classifyWithLlama`: the most probable label; `classifyWithLlamaExhaustive`: the greedy one. */
  label: string;
  /**
   * The label's probability: the product over its tokens, then EOS, of each token's probability
   * renormalised over the tokens allowed at that step. In (0, 1]; 1 when every step had one choice.
   */
  confidence: number;
  /** The label's ids after the prompt, EOS included. */
  generatedIds: number[];
  /** With `topK`: the most probable labels, best first; the probabilities of all labels sum to 1. */
  alternatives?: { label: string; probability: number }[];
}

/** Rows of prompt + prefix scored in one call are capped so that their logits stay under this many floats. */
const MAX_LOGITS_PER_CALL = 32 * 2 ** 20;

/**
 * One constrained step after `promptIds` + each prefix (all of the same length), in one batched
 * call: for each prefix, the renormalised distribution over the ids allowed next.
 */
async function stepDistributions(
  model: PreTrainedModel,
  trie: LabelTrie,
  promptIds: readonly number[],
  prefixes: readonly (readonly number[])[],
): Promise<Map<number, number>[]> {
  const rows = prefixes.map((prefix) => [...promptIds, ...prefix]);
  const length = rows[0]!.length;
  const processor = new LabelConstrainedLogitsProcessor(trie, promptIds.length);
  const logitsProcessor = new LogitsProcessorList();
  logitsProcessor.push(processor);
  await model.generate({
    input_ids: new Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, length]),
    attention_mask: new Tensor('int64', new BigInt64Array(rows.length * length).fill(1n), [rows.length, length]),
    max_new_tokens: 1,
    do_sample: false,
    logits_processor: logitsProcessor,
  });
  return rows.map((_, b) => {
    const dist = processor.steps[b]?.[0];
    if (!dist) throw new ModelFormatError('the logits processor was not called');
    return dist;
  });
}

/**
 * Every label's probability: the product of the renormalised step probabilities along its path in
 * the trie. The trie is walked a level at a time: every prefix of one length that has more than one
 * way on is scored in one batched call (steps with a single allowed id have probability 1 and cost
 * nothing), so a query costs about as many calls as the longest label has tokens.
 */
async function labelProbabilities(
  model: PreTrainedModel,
  trie: LabelTrie,
  promptIds: readonly number[],
  vocabSize: number,
): Promise<Map<string, number>> {
  const result = new Map<string, number>();
  const rowsPerCall = Math.max(1, Math.floor(MAX_LOGITS_PER_CALL / ((promptIds.length + trie.maxLength) * vocabSize)));
  let level: { prefix: number[]; probability: number }[] = [{ prefix: [], probability: 1 }];
  while (level.length > 0) {
    const next: typeof level = [];
    const follow = (node: (typeof level)[number], dist: Map<number, number>) => {
      for (const [id, p] of dist) {
        if (id === trie.eosTokenId) result.set(trie.labelFor(node.prefix)!, node.probability * p);
        else next.push({ prefix: [...node.prefix, id], probability: node.probability * p });
      }
    };
    const branching: typeof level = [];
    for (const node of level) {
      const allowed = trie.allowedNext(node.prefix);
      if (allowed.length === 1) follow(node, new Map([[allowed[0]!, 1]]));
      else branching.push(node);
    }
    for (let start = 0; start < branching.length; start += rowsPerCall) {
      const chunk = branching.slice(start, start + rowsPerCall);
      const dists = await stepDistributions(
        model,
        trie,
        promptIds,
        chunk.map((n) => n.prefix),
      );
      chunk.forEach((node, i) => follow(node, dists[i]!));
    }
    level = next;
  }
  return result;
}

/** A model call's outputs, as transformers.js returns them (logits, present.{i}.key / .value). */
type Outputs = Record<string, Tensor>;

/** Rows of one batched label-search call: each row carries its own copy of the prompt's cache. */
const MAX_ROWS_PER_CALL = 16;

const int64 = (values: readonly number[], dims: number[]) => new Tensor('int64', BigInt64Array.from(values.map(BigInt)), dims);

/** Frees what a call left on the GPU (WebGPU keeps `present.*` there); CPU tensors need nothing. */
function disposeGpu(outputs: Outputs, keep: ReadonlySet<Tensor> = new Set()): void {
  for (const t of Object.values(outputs)) if (t.location === 'gpu-buffer' && !keep.has(t)) t.dispose();
}

/** The last position's logits of each row as float32 [rows, vocab] (whatever num_logits_to_keep gave). */
function lastLogits(outputs: Outputs): { data: Float32Array; rows: number; vocab: number } {
  let logits = outputs.logits;
  if (!logits) throw new ModelFormatError('the model returned no logits');
  if (logits.type !== 'float32') logits = logits.to('float32');
  const [rows, positions, vocab] = logits.dims as [number, number, number];
  const all = logits.data as Float32Array;
  if (positions === 1) return { data: all, rows, vocab };
  const data = new Float32Array(rows * vocab);
  for (let r = 0; r < rows; r++)
    data.set(all.subarray((r * positions + positions - 1) * vocab, (r * positions + positions) * vocab), r * vocab);
  return { data, rows, vocab };
}

/** The prompt's key/value cache, copied `rows` times along the batch axis (CPU tensors; read back from the GPU if there). */
async function repeatCache(cache: Record<string, Tensor>, rows: number): Promise<Record<string, Tensor>> {
  const out: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(cache)) {
    const data = (t.location === 'cpu' ? t.data : await (t.ort_tensor as { getData(): Promise<unknown> }).getData()) as
      Float32Array | Uint16Array;
    if (rows === 1 && t.location === 'cpu') {
      out[name] = t;
      continue;
    }
    const copy = new (data.constructor as new (n: number) => typeof data)(data.length * rows);
    for (let r = 0; r < rows; r++) copy.set(data, r * data.length);
    out[name] = new Tensor(t.type as 'float32', copy as Float32Array, [rows, ...t.dims.slice(1)]);
  }
  return out;
}

/**
 * Classifies `prompt` as one of `labels` with exact probabilities (see `LlamaClassification`):
 *
 * 1. one prefill of the prompt, which gives the first step's distribution and the prompt's
 *    key/value cache (only the last position's logits are computed where the graph has
 *    `num_logits_to_keep`);
 * 2. a best-first search of the label trie: a label's probability is the product of the
 *    renormalised step probabilities along its path, so no label below a prefix can beat that
 *    prefix's probability. Prefixes are expanded best first, those of one length together in one
 *    batched call that reads only their own tokens on top of the prompt's cache; the search stops as
 *    soon as `topK` labels (1 without it) are complete and no open prefix can beat the last of them.
 *    Steps with one allowed id have probability 1 and cost nothing.
 *
 * The result is exactly what scoring every label (`labelProbabilities`) gives for the labels returned,
 * at a fraction of the model calls: the prompt is read once, not once per branch.
 */
export async function classifyWithLlama(options: ClassifyWithLlamaOptions): Promise<LlamaClassification> {
  const { model, tokenizer, prompt, labels, separator = ' ', topK } = options;
  const eos = tokenizer.eos_token_id;
  const trie = new LabelTrie(
    labels.map((label) => ({ label, ids: labelTokenIds(tokenizer, prompt, label, separator) })),
    eos,
  );
  const wanted = Math.max(1, Math.min(topK ?? 1, labels.length));
  const promptIds = tokenizer.encode(prompt);
  const promptLength = promptIds.length;
  const keepLast = new Tensor('int64', BigInt64Array.of(1n), []);
  const forward = (inputs: Record<string, unknown>) =>
    (model as unknown as { forward(i: Record<string, unknown>): Promise<Outputs> }).forward(inputs);

  const prefill = await forward({
    input_ids: int64(promptIds, [1, promptLength]),
    attention_mask: int64(
      promptIds.map(() => 1),
      [1, promptLength],
    ),
    position_ids: int64(
      promptIds.map((_, i) => i),
      [1, promptLength],
    ),
    num_logits_to_keep: keepLast,
  });
  const cache: Record<string, Tensor> = {};
  for (const [name, t] of Object.entries(prefill)) if (name.startsWith('present.')) cache[name.replace('present', 'past_key_values')] = t;

  interface Open {
    prefix: number[];
    probability: number;
  }
  const complete: { label: string; ids: number[]; probability: number }[] = [];
  let open: Open[] = [];
  /** Records `node`'s children under `dist`: finished labels, forced steps followed, branching prefixes kept open. */
  const follow = (node: Open, dist: Map<number, number>) => {
    for (const [id, p] of dist) {
      let prefix = [...node.prefix, id];
      const probability = node.probability * p;
      for (;;) {
        if (prefix.at(-1) === eos) {
          const body = prefix.slice(0, -1);
          complete.push({ label: trie.labelFor(body)!, ids: prefix, probability });
          break;
        }
        const next = trie.allowedNext(prefix);
        if (next.length !== 1) {
          open.push({ prefix, probability });
          break;
        }
        prefix = [...prefix, next[0]!];
      }
    }
  };
  try {
    const first = lastLogits(prefill);
    follow({ prefix: [], probability: 1 }, renormalisedSoftmax(first.data, 0, trie.allowedNext([])));
    disposeGpu(prefill, new Set(Object.values(cache)));

    const byProbability = (a: { probability: number }, b: { probability: number }) => b.probability - a.probability;
    for (;;) {
      complete.sort(byProbability);
      // No open prefix can beat the last label wanted: they are final. (NaN probabilities never settle; the trie is finite.)
      const bar = complete.length >= wanted ? complete[wanted - 1]!.probability : -Infinity;
      open = open.filter((n) => !(n.probability < bar));
      if (open.length === 0) break;
      open.sort(byProbability);
      // Expand the best open prefix together with every other open prefix of its length (one call).
      const length = open[0]!.prefix.length;
      const batch = open.filter((n) => n.prefix.length === length).slice(0, MAX_ROWS_PER_CALL);
      open = open.filter((n) => !batch.includes(n));
      const rows = batch.length;
      const outputs = await forward({
        input_ids: int64(
          batch.flatMap((n) => n.prefix),
          [rows, length],
        ),
        attention_mask: int64(new Array<number>(rows * (promptLength + length)).fill(1), [rows, promptLength + length]),
        position_ids: int64(
          batch.flatMap(() => Array.from({ length }, (_, i) => promptLength + i)),
          [rows, length],
        ),
        num_logits_to_keep: keepLast,
        past_key_values: await repeatCache(cache, rows),
      });
      const { data, vocab } = lastLogits(outputs);
      batch.forEach((node, r) => follow(node, renormalisedSoftmax(data, r * vocab, trie.allowedNext(node.prefix))));
      disposeGpu(outputs);
    }
  } finally {
    disposeGpu(cache);
  }
  complete.sort((a, b) => b.probability - a.probability);
  const best = complete[0];
  if (!best) throw new ModelFormatError('the label search found no label');
  const result: LlamaClassification = { label: best.label, confidence: best.probability, generatedIds: best.ids };
  if (topK !== undefined) result.alternatives = complete.slice(0, wanted).map(({ label, probability }) => ({ label, probability }));
  return result;
}

/**
 * The former query path, kept for comparison (`npm run verify:llama -- --profile`) and tests: greedy
 * decoding under the label constraint (`generate` with `LabelConstrainedLogitsProcessor`), then,
 * with `topK`, every label scored by `labelProbabilities`, each branch re-reading the prompt.
 */
export async function classifyWithLlamaExhaustive(options: ClassifyWithLlamaOptions): Promise<LlamaClassification> {
  const { model, tokenizer, prompt, labels, separator = ' ', topK } = options;
  const eos = tokenizer.eos_token_id;
  const trie = new LabelTrie(
    labels.map((label) => ({ label, ids: labelTokenIds(tokenizer, prompt, label, separator) })),
    eos,
  );
  const promptIds = tokenizer.encode(prompt);
  const processor = new LabelConstrainedLogitsProcessor(trie, promptIds.length);
  const logitsProcessor = new LogitsProcessorList();
  logitsProcessor.push(processor);
  const out = (await model.generate({
    input_ids: new Tensor('int64', BigInt64Array.from(promptIds.map(BigInt)), [1, promptIds.length]),
    attention_mask: new Tensor('int64', BigInt64Array.from(promptIds.map(() => 1n)), [1, promptIds.length]),
    max_new_tokens: trie.maxLength,
    do_sample: false,
    eos_token_id: eos,
    logits_processor: logitsProcessor,
  })) as Tensor;
  const generatedIds = Array.from(out.data as BigInt64Array, Number).slice(promptIds.length);
  const label = trie.labelFor(generatedIds);
  if (label === undefined) throw new ModelFormatError(`constrained decoding produced no label: ids [${generatedIds}]`);
  const steps = processor.steps[0] ?? [];
  let confidence = 1;
  steps.forEach((dist, i) => (confidence *= dist.get(generatedIds[i]!) ?? 0));
  if (topK === undefined) return { label, confidence, generatedIds };
  const vocabSize = (model.config as { vocab_size?: number }).vocab_size ?? 128256;
  const alternatives = [...(await labelProbabilities(model, trie, promptIds, vocabSize))]
    .map(([label, probability]) => ({ label, probability }))
    .sort((a, b) => b.probability - a.probability)
    .slice(0, topK);
  return { label, confidence, generatedIds, alternatives };
}
