/** Writes MODEL_CARD.md from a training report: every figure in it comes from that run. */
import { writeFileSync } from 'node:fs';
import type { EvalReport } from '../bench/evaluate';
import type { TrainingReport } from './run-training';

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
const kb = (bytes: number) => (bytes / 1024).toFixed(0) + ' KiB';
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
    '',
    '## Quality',
    '',
    'Latency is one query at a time on the CPU of the training machine (onnxruntime-node), in ms.',
    '',
    ...qualityTable(
      [
        ['validation (carved from train)', r.validation.report],
        ...(r.test ? [['test (held out, reported only)', r.test] as [string, EvalReport]] : []),
      ],
      2,
    ),
    '',
    `Calibration: temperature ${r.temperature.toFixed(3)} fitted on the validation split (NLL ${r.validation.nllBefore.toFixed(4)} → ${r.validation.nllAfter.toFixed(4)}).`,
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
    `- ${s.epochs} epochs per member, batch ${s.batchSize}, AdamW (lr ${s.learningRate}, weight decay ${s.weightDecay}), one epoch of warm-up then cosine decay, dropout ${s.dropout}, token dropout ${s.tokenDropout}, label smoothing ${s.labelSmoothing}.`,
    `- Members (seed: best epoch, validation accuracy): ${r.members.map((m) => `${m.seed}: ${m.bestEpoch}, ${pct(m.validationAccuracy)}`).join('; ')}.`,
    timeLine(r),
    `- Command: \`${command}\` (seed ${s.seed}).`,
    '',
    '## Limits',
    '',
    '- Trained on English Banking77 queries only; it always answers one of its labels, even for text that is not about banking.',
    `- Text beyond ${s.shape.maxTokens} tokens is cut; the prediction then says \`truncated: true\`.`,
    '- Data: Banking77 by PolyAI (Casanueva et al. 2020), CC BY 4.0, see `data/banking77/LICENSE`.',
    '',
  ];
  writeFileSync(path, lines.join('\n'));
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
