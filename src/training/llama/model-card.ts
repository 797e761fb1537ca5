/** Writes MODEL_CARD.md for the demo Llama: every figure comes from the files of the run that built it. */
import { writeFile } from 'node:fs/promises';
import type { EvalReport } from '../../bench/evaluate';
import type { LlamaConfig } from '../../models/llama/config';
import { llamaParameterShapes } from '../../models/llama/reference';
import type { BaseSettings, QloraSettings } from './settings';
import { pct, qualityTable } from '../model-card';
import type { ThresholdChoice } from '../oos-threshold';

export interface StageRecord<S> {
  settings: S;
  steps: number;
  seconds: number;
  train_tokens: number;
  final_loss: number;
}

export interface LlamaTrainingReport {
  config: LlamaConfig;
  base: StageRecord<BaseSettings> & {
    texts: number;
    /** Set when this model's base was an earlier model of ours (`train:llama --base-from`). */
    continuedFrom?: { dir: string; qlora: StageRecord<QloraSettings> & { examples: number }; validationAccuracy: number };
  };
  qlora: StageRecord<QloraSettings> & { examples: number };
  mergeSeconds: number;
  files: { path: string; bytes: number }[];
  validation: EvalReport;
  /** The base alone on the validation split: merged with an adapter of zeros, so NF4 and q4 as the real one. */
  baseValidation: EvalReport;
  test?: EvalReport;
  /** The bundled out-of-scope rows held out from training and from every choice. */
  heldOutNegatives?: EvalReport;
  oos?: ThresholdChoice;
  command: string;
}

const minutes = (s: number) => (s / 60).toFixed(1) + ' min';
const size = (bytes: number) => (bytes < 2 ** 20 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 2 ** 20).toFixed(2)} MiB`);

function llamaParameterCount(config: LlamaConfig): number {
  return Object.values(llamaParameterShapes(config)).reduce((sum, shape) => sum + shape.reduce((a, b) => a * b, 1), 0);
}

export async function writeLlamaModelCard(path: string, r: LlamaTrainingReport): Promise<void> {
  const c = r.config;
  const b = r.base.settings;
  const q = r.qlora.settings;
  const loraParameters = loraCount(c, q);
  // Like for like: in-scope validation rows, rejection off (the base alone never learnt out_of_scope).
  const tuned = r.validation.out_of_scope.in_scope_accuracy_without_rejection ?? r.validation.accuracy;
  const baseAlone = `the ${r.base.continuedFrom ? 'model QLoRA started from' : 'base alone'} (NF4 then q4, no adapter, the same constrained decoding) scores ${pct(r.baseValidation.accuracy)} on the in-scope validation rows, and QLoRA takes it to ${pct(tuned)} (rejection off)`;
  const lines = [
    '# Model card: `llama-qlora` demo',
    '',
    'A **small** Llama-architecture model (RMSNorm, rotary embeddings, SwiGLU, grouped-query attention) trained',
    'from nothing in this repository on a 2-core machine without a GPU, then fine-tuned with QLoRA, merged and',
    'quantised to 4 bits by the same `merge-qlora` command a bank runs on its own QLoRA-tuned Llama 3.x.',
    'It shows the path and the runtime; it is not a pretrained Llama and knows nothing beyond its training text.',
    '',
    '## Shape and size',
    '',
    `- ${c.num_hidden_layers} layers, hidden ${c.hidden_size}, MLP ${c.intermediate_size}, ${c.num_attention_heads} query heads over ${c.num_key_value_heads} key/value heads of ${c.head_dim}, context ${c.max_position_embeddings}, ${c.tie_word_embeddings ? 'tied' : 'untied'} embeddings.`,
    `- ${llamaParameterCount(c).toLocaleString('en')} parameters; WordPiece vocabulary of ${c.vocab_size} tokens (with \`<s>\`, \`</s>\`) learned on the training texts.`,
    `- Files: ${r.files.map((f) => `\`${f.path}\` ${size(f.bytes)}`).join(', ')}.`,
    '',
    '## Quality',
    '',
    "Label-constrained decoding (only one of the labels can come out); the label's probability is renormalised over the",
    "labels. `out_of_scope` is one more label path: the answer is `out_of_scope` when the best in-scope label's probability",
    `is below the threshold in \`classifier.json\`${r.oos ? ` (${r.oos.threshold}, the highest that turns away at most ${pct(r.oos.maxInScopeRejected)} of the in-scope validation rows)` : ''}.`,
    'Accuracy counts an `out_of_scope` answer to an in-scope row as wrong. Latency: one query at a time, transformers.js',
    'on the CPU of the training machine (onnxruntime-node, `onnx/model_q4.onnx`), in ms, including the exact top-5 scoring.',
    '',
    ...qualityTable(
      [
        ['validation (carved from train, + validation negatives)', r.validation],
        ...(r.test ? [['test (held out, reported only)', r.test] as [string, EvalReport]] : []),
        ...(r.heldOutNegatives ? [['held-out out-of-scope rows (reported only)', r.heldOutNegatives] as [string, EvalReport]] : []),
      ],
      1,
    ),
    ...(r.test && r.heldOutNegatives
      ? [
          '',
          `Out of scope: ${pct(r.heldOutNegatives.out_of_scope.oos_rejected ?? 0)} of the ${r.heldOutNegatives.n} held-out out-of-scope rows (topics never trained on) are answered \`out_of_scope\`, and ${pct(r.test.out_of_scope.in_scope_rejected ?? 0)} of the test rows are wrongly turned away; with rejection off the test accuracy is ${pct(r.test.out_of_scope.in_scope_accuracy_without_rejection ?? 0)}.` +
            (r.oos?.validation.auroc ? ` Validation AUROC of the rejection score: ${r.oos.validation.auroc.toFixed(4)}.` : ''),
        ]
      : []),
    ...(r.test
      ? [
          '',
          'Most confused pairs on the test split (true → predicted):',
          '',
          ...r.test.confused_pairs.slice(0, 5).map((p) => `- \`${p.label}\` → \`${p.predicted}\`: ${p.count}`),
        ]
      : []),
    '',
    '## Training',
    '',
    `1. Base: causal language model, every token a target and every weight trained, on ${r.base.texts.toLocaleString('en')} sequences an epoch: Banking77's training split less a stratified ${pct(b.validationFraction)} validation part (seed ${b.seed}), each row written as the prompt followed by its label (\`message: … intent: card_arrival</s>\`) and read ${b.labelledRepeats === 1 ? 'once' : `${b.labelledRepeats} times`} an epoch, and the HWU64 utterances as plain text, once an epoch. So the base has read the task's text before QLoRA, as a bank's Llama has read the web${r.base.continuedFrom ? '' : `; ${baseAlone}`}. Training: ${b.epochs} epochs, batch ${b.batchSize}, AdamW lr ${b.learningRate} (weight decay ${b.weightDecay}, ${b.warmupSteps} warm-up steps, cosine decay), ${r.base.steps} steps, final loss ${r.base.final_loss.toFixed(3)}, ${minutes(r.base.seconds)}.`,
    ...(r.base.continuedFrom
      ? [
          `2. First QLoRA (the previous bundle, \`${r.base.continuedFrom.dir}\`): LoRA r=${r.base.continuedFrom.qlora.settings.r} over ${r.base.continuedFrom.qlora.examples.toLocaleString('en')} in-scope examples, ${r.base.continuedFrom.qlora.settings.epochs} epochs, ${minutes(r.base.continuedFrom.qlora.seconds)}, merged and quantised: ${pct(r.base.continuedFrom.validationAccuracy)} on validation. This run read that model back from its float32 graph (\`train:llama --base-from\`) as the base of the next step.`,
        ]
      : []),
    `${r.base.continuedFrom ? '3' : '2'}. QLoRA${r.base.continuedFrom ? ' with out-of-scope examples' : ''}: the base's projections frozen in 4-bit NF4 (blocks of 64), LoRA r=${q.r}, alpha=${q.alpha} on ${q.targetModules.join(', ')} (${loraParameters.toLocaleString('en')} trained parameters, fp32), loss on the label tokens after the prompt, word dropout ${q.tokenDropout} on the prompt: ${q.epochs} epochs over ${r.qlora.examples.toLocaleString('en')} examples, batch ${q.batchSize}, AdamW lr ${q.learningRate}, ${q.warmupSteps} warm-up steps, ${r.qlora.steps} steps, final loss ${r.qlora.final_loss.toFixed(3)}, ${minutes(r.qlora.seconds)}${r.base.continuedFrom ? `; ${baseAlone}` : ''}.`,
    `${r.base.continuedFrom ? '4' : '3'}. Merge and export: \`merge-qlora --base-nf4\` (W_nf4 + alpha/r · B·A in float32, W_nf4 being the base's linear layers after the NF4 round trip the adapter was trained against; then 4-bit MatMulNBits, block 32), ${r.mergeSeconds.toFixed(1)} s.`,
    '- The validation split was the only data used to compare settings; the test split was used for nothing but the figures above.',
    '- Time: tfjs on its WASM backend, one core per process.',
    `- Command: \`${r.command}\` (settings in \`src/training/llama/settings.ts\`).`,
    '',
    '## Limits',
    '',
    '- Tiny and trained on about 20,000 short texts: it is a demonstration of the Llama path, and the `custom` encoder is the better offline classifier.',
    '- English only: other languages are meant to be answered `out_of_scope`. Not trained with typing noise (the `custom` model is).',
    '- Data: Banking77 by PolyAI (Casanueva et al. 2020), CC BY 4.0, `data/banking77/LICENSE`; HWU64 (Liu et al. 2019), CC BY 4.0, `data/hwu64/LICENSE`; SNIPS (Coucke et al. 2018), CC0, `data/snips/LICENSE`.',
    '',
  ];
  await writeFile(path, lines.join('\n'));
}

function loraCount(c: LlamaConfig, q: QloraSettings): number {
  const shapes = llamaParameterShapes(c);
  let n = 0;
  for (const [name, shape] of Object.entries(shapes)) {
    const module = /\.(\w+_proj)\.weight$/.exec(name)?.[1];
    if (module && (q.targetModules as string[]).includes(module)) n += q.r * (shape[0]! + shape[1]!);
  }
  return n;
}
