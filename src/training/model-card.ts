/** Writes MODEL_CARD.md from a training report: every figure in it comes from that run. */
import { writeFileSync } from 'node:fs';
import type { EvalReport } from '../bench/evaluate';
import type { TrainingReport } from './training-report';

export const pct = (x: number) => (100 * x).toFixed(2) + '%';

/** The quality table of a model card: one row per evaluated split, latencies with `digits` decimals. */
export function qualityTable(rows: [name: string, report: EvalReport][], digits: number): string[] {
  const ms = (x: number) => x.toFixed(digits);
  return [
    '| split | rows | accuracy | macro-F1 | ECE (15 bins) | latency p50 / p95 / p99 |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      ([name, e]) =>
        `| ${name} | ${e.n} | ${pct(e.accuracy)} | ${pct(e.macro_f1)} | ${e.ece.toFixed(4)} | ${ms(e.p50_ms)} / ${ms(e.p95_ms)} / ${ms(e.p99_ms)} |`,
    ),
  ];
}
const kb = (bytes: number) => (bytes < 1024 ? `${bytes} B` : (bytes / 1024).toFixed(0) + ' KiB');
const minutes = (s: number) => (s / 60).toFixed(1) + ' min';

export function writeModelCard(path: string, r: TrainingReport, command: string, weights: 'int8' | 'fp32'): void {
  const s = r.settings;
  const totalBytes = Object.values(r.files).reduce((a, b) => a + b, 0);
  const lines = [
    '# Model card: `custom` intent encoder',
    '',
    'A small Transformer encoder written and trained from scratch in this repository (`src/models/custom/model.ts`),',
    `an ensemble of ${s.members} independently seeded members averaged inside one ONNX graph, with ${weights} weights.`,
    'It maps a customer message to one of the labels in `config.json` with a temperature-calibrated confidence.',
    '',
    '## Shape and size',
    '',
    `- ${s.shape.layers} layers, width ${s.shape.dModel}, ${s.shape.heads} heads, feed-forward ${s.shape.ffn}, context ${s.shape.maxTokens} tokens, pre-LayerNorm, mean pooling.`,
    `- WordPiece vocabulary of ${r.vocabSize} tokens learned on the training split; ${r.labels} labels.`,
    `- Parameters: ${r.parametersPerMember.toLocaleString('en')} per member, ${(r.parametersPerMember * s.members).toLocaleString('en')} in all.`,
    `- Files: ${Object.entries(r.files)
      .map(([f, b]) => `\`${f}\` ${kb(b)}`)
      .join(', ')}; ${(totalBytes / 1024 / 1024).toFixed(2)} MiB in all.`,
    "- The same folder loads in transformers.js as `pipeline('text-classification', folder)` (`config.json` has `id2label` and `model_type`, `tokenizer.json` and `tokenizer_config.json` are in Hugging Face format, `onnx/model.onnx` gives `logits`). Its top label is the argmax over every label, `out_of_scope` included, without our spelling correction and out-of-scope threshold: ask for `top_k: null` and apply `outOfScope.threshold` to the best in-scope score to answer as our engine does. Checked on the test split: `npx vitest run test/unit/transformersjs-custom.test.ts`.",
    '',
    '## Quality',
    '',
    'Accuracy counts an `out_of_scope` answer to an in-scope row as wrong, and a rejected negative as right. Latency is one',
    'query at a time on the CPU of the training machine (onnxruntime-node), in ms.',
    '',
    ...qualityTable(
      [
        [r.negatives ? 'validation (carved from train, + validation negatives)' : 'validation (carved from train)', r.validation.report],
        ...(r.test ? [['test (held out, reported only)', r.test] as [string, EvalReport]] : []),
      ],
      2,
    ),
    '',
    `Calibration: temperature ${r.temperature.toFixed(3)} fitted on the validation split (NLL ${r.validation.nllBefore.toFixed(4)} → ${r.validation.nllAfter.toFixed(4)}).`,
    ...outOfScopeLines(r),
    ...(r.test && r.testTypos
      ? [
          '',
          `Typos: on a copy of the test split with 1-2 ordinary phone typos per message (a swapped, dropped, doubled or neighbouring letter in words of 4+ letters; \`perturbText\` in \`src/training/typos.ts\`, seed ${r.testTypos.seed}) accuracy is ${pct(r.testTypos.accuracy)}, against ${pct(r.test.accuracy)} on the clean rows (${((r.test.accuracy - r.testTypos.accuracy) * 100).toFixed(2)} points). Reproduce: \`npm run eval -- --typos ${r.testTypos.seed}\`.`,
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
    `- Data: \`${s.data}\`; a stratified ${pct(s.validationFraction)} validation split (seed ${s.seed}) chose each member's best epoch and the temperature. The test split was used for nothing but the figures above.`,
    ...(r.negatives
      ? [
          `- Out-of-scope examples, label \`out_of_scope\` (\`src/training/negatives.ts\`): ${r.negatives.train.toLocaleString('en')} in training, ${r.negatives.validation} in validation, ${r.negatives.test} held out for the figures above, from HWU64 (without \`qa_currency\` and \`qa_stock\`, which are banking questions, and without any utterance that mentions money, cards, accounts, payments...), SNIPS and our own generator (greetings, thanks, asking for a person, chit-chat, gibberish, other languages, near-empty text). Split by source intent: validation holds ${r.negatives.groups.validation.filter((g) => !g.startsWith('generated')).join(', ')}; the held-out test part ${r.negatives.groups.test.filter((g) => !g.startsWith('generated')).join(', ')}; generated rows are split row by row.`,
        ]
      : []),
    `- Spelling correction at inference: \`spelling.json\` carries the ${r.spellingWords.toLocaleString('en')} words seen at least twice in the training text; a word of 4+ letters that is not among them is read as the most frequent of them one edit away (\`src/tokenizer/spelling.ts\`), if any. Chosen on validation: with 1-2 typos per validation message it lifted accuracy by about 2 points, and left clean and out-of-scope validation figures unchanged. The members themselves train on the raw, noisy text.`,
    `- Typing noise, fresh every epoch: ${pct(s.noise.typoRate)} of the rows get 1-2 typos (words of 3+ letters), ${pct(s.noise.casualRate)} lose their apostrophes and final punctuation.`,
    `- ${s.epochs} epochs per member, batch ${s.batchSize}, AdamW (lr ${s.learningRate}, weight decay ${s.weightDecay}), one epoch of warm-up then cosine decay, dropout ${s.dropout}, token dropout ${s.tokenDropout}, label smoothing ${s.labelSmoothing}.`,
    `- Members (seed: best epoch, validation accuracy): ${r.members.map((m) => `${m.seed}: ${m.bestEpoch}, ${pct(m.validationAccuracy)}`).join('; ')}.`,
    timeLine(r),
    `- Command: \`${command}\` (seed ${s.seed}).`,
    '',
    '## Limits',
    '',
    "- English only: other languages are meant to be answered `out_of_scope`. Out-of-scope detection was measured on topics held out from training; a bank's own traffic will hold others, so check the rates on it (`npm run eval -- --data your.csv` with rows labelled `out_of_scope`) and set the threshold to suit.",
    `- Text beyond ${s.shape.maxTokens} tokens is cut; the prediction then says \`truncated: true\`.`,
    '- Data: Banking77 by PolyAI (Casanueva et al. 2020), CC BY 4.0, `data/banking77/LICENSE`; HWU64 (Liu et al. 2019), CC BY 4.0, `data/hwu64/LICENSE`; SNIPS (Coucke et al. 2018), CC0, `data/snips/LICENSE`.',
    '',
  ];
  writeFileSync(path, lines.join('\n'));
}

function outOfScopeLines(r: TrainingReport): string[] {
  const o = r.outOfScope;
  if (!o) return [];
  const lines = [
    '',
    `Out of scope: the answer is \`out_of_scope\` when the best in-scope label's probability is below ${o.threshold} (\`config.json\` \`outOfScope.threshold\`), the highest threshold that turns away at most ${pct(o.maxInScopeRejected)} of the in-scope validation rows (each row counted as written and with 1-2 typos, so that misspelt questions are not the ones turned away). On validation it turns away ${pct(o.validation.in_scope_rejected)} of ${o.validation.n_in_scope} such rows and answers ${pct(o.validation.oos_rejected ?? 0)} of ${o.validation.n_oos} out-of-scope rows \`out_of_scope\` (AUROC ${o.validation.auroc?.toFixed(4) ?? 'n/a'}).`,
  ];
  const t = r.testWithNegatives?.out_of_scope;
  if (t && r.test)
    lines.push(
      '',
      `On the test split with the held-out negatives (topics never trained on): ${pct(t.oos_rejected ?? 0)} of ${t.n_oos} out-of-scope rows answered \`out_of_scope\`, ${pct(t.in_scope_rejected ?? 0)} of ${t.n_in_scope} in-scope rows wrongly turned away, AUROC ${t.auroc?.toFixed(4) ?? 'n/a'}. Test accuracy is ${pct(r.test.accuracy)} with rejection (an \`out_of_scope\` answer counts wrong) and ${pct(r.test.out_of_scope.in_scope_accuracy_without_rejection ?? 0)} for the best in-scope label with rejection off. Reproduce: \`npm run eval -- --negatives\`.`,
    );
  return lines;
}

/**
 * Training time. Members restored from the cache took no time in this run, so the card then gives
 * their own recorded times and the wall time they add up to when run `parallel` at a time.
 */
function timeLine(r: TrainingReport): string {
  const own = r.members.map((m) => m.wallSeconds);
  const base = `- Time on a 2-core machine (tfjs WASM backend, ${r.settings.parallel} member processes at a time): `;
  if (!r.members.some((m) => m.cached)) return base + `members ${minutes(r.seconds.members)}, whole run ${minutes(r.seconds.total)}.`;
  const slots = new Array<number>(Math.max(1, r.settings.parallel)).fill(0);
  for (const t of own) slots[slots.indexOf(Math.min(...slots))]! += t;
  return (
    base +
    `this export reused members cached by an earlier run of the same command; their own training times were ${own.map(minutes).join(', ')}, ` +
    `${minutes(Math.max(...slots))} of wall time at ${r.settings.parallel} at a time, plus ${minutes(r.seconds.total)} for calibration, export and evaluation in this run.`
  );
}
