/**
 * The whole training run behind `npm run train`: prepare data and tokenizer, train the ensemble's
 * members in parallel, fit the calibration temperature on the validation split, export to ONNX,
 * check the exported model with the same engine the CLI and browser use, and write the model card.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluate, type EvalReport } from '../bench/evaluate';
import { loadNodeEngine } from '../engine/custom-node-engine';
import { listModelFiles } from '../engine/model-manifest-node';
import type { EncoderShape } from '../models/custom/config';
import { countParameters, EncoderClassifier, type NamedWeights } from '../models/custom/model';
import { roundTripInt8 } from '../models/custom/quantize';
import { fitTemperature, nll } from './calibrate';
import { readLabelledCsv } from './data';
import { OUT_OF_SCOPE } from '../core/labels';
import { chooseOosThreshold } from './oos-threshold';
import { perturbText } from './typos';
import { writeModelCard } from './model-card';
import { trainMembers, type MemberOutcome } from './members';
import { prepareTraining, type TrainingSettings } from './prepare';
import { predictLogits } from './train-member';
import { writeModelFolder } from './write-model';
import { drawProbeSet } from '../bench/probe-draw';
import { PROBE_SET_FILE } from '../bench/probe-hash';
import type { TrainingReport } from './training-report';

export interface RunTrainingOptions extends TrainingSettings {
  out: string;
  cacheDir: string;
  parallel: number;
  weights: 'int8' | 'fp32';
  /** A held-out CSV evaluated once at the end for the model card (never used for any choice). */
  test?: string;
  /** Seed of the typo copy of `test` reported beside it. */
  typoSeed?: number;
  /** The command line that started this run, recorded in the model card. */
  command: string;
  log: (line: string) => void;
}

export async function runTraining(o: RunTrainingOptions): Promise<TrainingReport> {
  const started = performance.now();
  const prep = prepareTraining(o);
  o.log(
    `data: ${prep.train.length} training and ${prep.validation.length} validation rows, ${prep.labels.length} labels, vocabulary ${prep.tokenizer.size}`,
  );
  o.log(
    `model: ${o.members} members x ${countParameters(prep.shape).toLocaleString('en')} parameters, ${o.epochs} epochs each, ${o.parallel} in parallel`,
  );

  const membersStarted = performance.now();
  const members = await trainMembers(prep.jobs, { cacheDir: o.cacheDir, parallel: o.parallel, log: o.log });
  const memberSeconds = (performance.now() - membersStarted) / 1000;

  // Calibrate the ensemble exactly as it will be deployed (int8 weights when quantised).
  await tf.setBackend('wasm');
  const deployed = members.map((m) => (o.weights === 'int8' ? roundTripInt8(m.weights) : m.weights));
  const validation = prep.encode(prep.validation);
  const logits = ensembleLogits(prep.shape, deployed, validation, prep.tokenizer.padId);
  const labels = validation.map((r) => r.label);
  const temperature = fitTemperature(logits, labels, prep.labels.length);
  const nllBefore = nll(logits, labels, prep.labels.length, 1);
  const nllAfter = nll(logits, labels, prep.labels.length, temperature);
  o.log(`calibration: temperature ${temperature.toFixed(3)}, validation NLL ${nllBefore.toFixed(4)} -> ${nllAfter.toFixed(4)}`);

  // The threshold from the deployed, calibrated probabilities on validation: the in-scope rows as
  // written and with typos (customers misspell, and a misspelt question must not be turned away
  // more than a clean one), and the negatives.
  const hasOos = prep.labels.includes(OUT_OF_SCOPE);
  const misspelt = prep.validation.filter((r) => r.label !== OUT_OF_SCOPE).map((r, i) => ({ ...r, text: perturbText(r.text, o.seed, i) }));
  const misspeltLogits = hasOos ? ensembleLogits(prep.shape, deployed, prep.encode(misspelt), prep.tokenizer.padId) : undefined;
  const outOfScope = misspeltLogits
    ? chooseOosThreshold(
        [...prep.validation, ...misspelt].map((r) => r.label),
        [...bestInScope(logits, prep.labels, temperature), ...bestInScope(misspeltLogits, prep.labels, temperature)],
        MAX_IN_SCOPE_REJECTED,
      )
    : undefined;
  if (outOfScope) o.log(`out-of-scope threshold ${outOfScope.threshold}: ${JSON.stringify(outOfScope.validation)}`);

  writeModelFolder({
    dir: o.out,
    shape: prep.shape,
    labels: prep.labels,
    tokenizer: prep.tokenizer,
    members: members.map((m) => m.weights),
    temperature,
    weights: o.weights,
    outOfScope: outOfScope && { threshold: outOfScope.threshold },
  });
  const engine = await loadNodeEngine(o.out);
  const validationReport = await evaluate(engine, prep.validation);
  o.log(`exported model on the validation split: accuracy ${validationReport.accuracy.toFixed(4)}, ECE ${validationReport.ece.toFixed(4)}`);
  let test: EvalReport | undefined;
  let testTypos: TrainingReport['testTypos'];
  let testWithNegatives: EvalReport | undefined;
  if (o.test) {
    const testRows = readLabelledCsv(o.test);
    test = await evaluate(engine, testRows);
    o.log(`held-out ${o.test}: accuracy ${test.accuracy.toFixed(4)}, macro-F1 ${test.macro_f1.toFixed(4)}, ECE ${test.ece.toFixed(4)}`);
    const typoSeed = o.typoSeed ?? 1;
    const typoRows = testRows.map((r, i) => ({ ...r, text: perturbText(r.text, typoSeed, i) }));
    testTypos = { ...(await evaluate(engine, typoRows)), seed: typoSeed };
    o.log(`with typos (seed ${typoSeed}): accuracy ${testTypos.accuracy.toFixed(4)}`);
    if (prep.heldOutNegatives) {
      testWithNegatives = await evaluate(engine, [...testRows, ...prep.heldOutNegatives.test]);
      const r = testWithNegatives.out_of_scope;
      o.log(
        `+ held-out negatives: ${JSON.stringify({ oos_rejected: r.oos_rejected, in_scope_rejected: r.in_scope_rejected, auroc: r.auroc })}`,
      );
    }
  }
  await engine.dispose();
  await writeProbeSet(o, prep);

  // Every file a runtime loads (what the manifest covers): our engine's and transformers.js's.
  const files = Object.fromEntries(listModelFiles(o.out).map((f) => [f, statSync(join(o.out, f)).size]));
  const { log: _log, out: _out, cacheDir: _cache, weights: _weights, test: _test, command: _command, typoSeed: _typoSeed, ...settings } = o;
  const report: TrainingReport = {
    settings,
    labels: prep.labels.length,
    vocabSize: prep.tokenizer.size,
    spellingWords: prep.tokenizer.toJSON().words?.length ?? 0,
    parametersPerMember: countParameters(prep.shape),
    members: members.map((m: MemberOutcome) => ({
      seed: m.seed,
      bestEpoch: m.bestEpoch,
      validationAccuracy: m.bestValidationAccuracy,
      wallSeconds: m.wallSeconds,
      cached: m.cached,
    })),
    temperature,
    validation: { nllBefore, nllAfter, report: validationReport },
    test,
    testTypos,
    testWithNegatives,
    outOfScope,
    negatives: prep.heldOutNegatives && {
      train: prep.train.filter((r) => r.label === OUT_OF_SCOPE).length,
      validation: prep.validation.filter((r) => r.label === OUT_OF_SCOPE).length,
      test: prep.heldOutNegatives.test.length,
      groups: prep.heldOutNegatives.groups,
    },
    files,
    seconds: { members: memberSeconds, total: (performance.now() - started) / 1000 },
  };
  writeFileSync(join(o.out, 'training-report.json'), JSON.stringify(report, null, 2) + '\n');
  writeModelCard(join(o.out, 'MODEL_CARD.md'), report, o.command, o.weights);
  return report;
}

/**
 * The model's own benchmark probe set (probe-set.json), so that rounds of a model trained on a
 * bank's intents probe those intents: drawn from the --test file when there is one, else from the
 * CSV's validation rows (never trained on), plus held-out negatives.
 */
async function writeProbeSet(o: RunTrainingOptions, prep: ReturnType<typeof prepareTraining>): Promise<void> {
  let set;
  try {
    set = await drawProbeSet({
      labels: prep.labels,
      rows: o.test ? readLabelledCsv(o.test) : prep.ownValidation,
      negatives: prep.heldOutNegatives?.test,
      exclude: new Set(prep.train.map((row) => row.text)),
      from: o.test ? `held-out rows of ${o.test}` : `the validation split of ${o.data} (never trained on)`,
    });
  } catch (error) {
    // Too few rows to hold any out: the model is still good; benchmarks then say it has no probe set.
    o.log(`no benchmark probe set written: ${(error as Error).message}`);
    return;
  }
  writeFileSync(join(o.out, PROBE_SET_FILE), JSON.stringify(set, null, 2) + '\n');
  o.log(`benchmark probe set ${PROBE_SET_FILE}: ${set.id}, ${set.n} probes`);
}

/** The share of in-scope validation rows the out-of-scope threshold may turn away (test allows 3%). */
const MAX_IN_SCOPE_REJECTED = 0.02;

/** Each row's probability of its best in-scope label, as the exported graph computes it (softmax of logits / T). */
function bestInScope(logits: Float32Array, labels: string[], temperature: number): number[] {
  const n = labels.length;
  const oos = labels.indexOf(OUT_OF_SCOPE);
  const out: number[] = [];
  for (let start = 0; start < logits.length; start += n) {
    const row = logits.subarray(start, start + n);
    const max = Math.max(...row);
    let sum = 0;
    for (const v of row) sum += Math.exp((v - max) / temperature);
    let best = 0;
    row.forEach((v, i) => {
      if (i !== oos) best = Math.max(best, Math.exp((v - max) / temperature) / sum);
    });
    out.push(best);
  }
  return out;
}

/** Mean of the members' logits, [rows, labels] row-major. */
function ensembleLogits(
  shape: EncoderShape,
  members: NamedWeights[],
  rows: { ids: number[]; label: number }[],
  padId: number,
): Float32Array {
  const sum = new Float32Array(rows.length * shape.numLabels);
  for (const weights of members) {
    const model = new EncoderClassifier(shape, weights);
    predictLogits(model, rows, padId, shape.numLabels).forEach((v, i) => (sum[i]! += v / members.length));
    model.dispose();
  }
  return sum;
}
