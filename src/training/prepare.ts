/**
 * Everything before the first gradient step: read the CSV, carve the validation split, learn the
 * tokenizer on the training part, encode, and describe one job per ensemble member.
 */
import { BANKING77_LABELS, OUT_OF_SCOPE } from '../core/labels';
import { DEFAULT_SHAPE, type EncoderShape } from '../models/custom/config';
import { countWords } from '../tokenizer/spelling';
import { normalize, preTokenize, trainWordPiece, type WordPieceTokenizer } from '../tokenizer/wordpiece';
import { labelSet, readLabelledCsv, stratifiedSplit, type Example } from './data';
import type { MemberJob } from './members';
import type { EncodedExample } from './batches';
import { DEFAULT_NEGATIVES, loadNegatives, type NegativeSplits } from './negatives';
import type { Hyperparameters } from './train-member';
import { DEFAULT_NOISE, type NoiseSettings } from './typos';

export interface TrainingSettings extends Hyperparameters {
  data: string;
  seed: number;
  members: number;
  vocabSize: number;
  validationFraction: number;
  shape: Omit<EncoderShape, 'vocabSize' | 'numLabels'>;
  /** Add the bundled out-of-scope examples (HWU64, SNIPS, generated) to the CSV's own. */
  negatives: boolean;
  /** Typing noise put on training rows, fresh every epoch. */
  noise: NoiseSettings;
}

export const DEFAULT_SETTINGS: Omit<TrainingSettings, 'data'> = {
  seed: 20261122,
  members: 5,
  epochs: 16,
  batchSize: 32,
  learningRate: 1e-3,
  weightDecay: 0.01,
  dropout: 0.1,
  tokenDropout: 0.1,
  labelSmoothing: 0.1,
  vocabSize: 3000,
  validationFraction: 0.1,
  shape: DEFAULT_SHAPE,
  negatives: true,
  noise: DEFAULT_NOISE,
};

export interface PreparedTraining {
  /** In-scope labels, then `out_of_scope` last when there are negative examples. */
  labels: string[];
  /** The shipped tokenizer: the learnt pieces plus the training text's words for spelling correction. */
  tokenizer: WordPieceTokenizer;
  shape: EncoderShape;
  train: Example[];
  validation: Example[];
  /** The CSV's own rows in `validation` (never trained on): what a model's probe set is drawn from without a test file. */
  ownValidation: Example[];
  /** Bundled negatives held out from training: `test` is reported only, never used for a choice. */
  heldOutNegatives?: Pick<NegativeSplits, 'test' | 'groups'>;
  encode: (rows: Example[]) => EncodedExample[];
  jobs: MemberJob[];
}

export function prepareTraining(s: TrainingSettings): PreparedTraining {
  const rows = readLabelledCsv(s.data);
  const inScope = rows.filter((r) => r.label !== OUT_OF_SCOPE);
  const bundled = s.negatives ? loadNegatives(DEFAULT_NEGATIVES) : undefined;
  const hasNegatives = bundled !== undefined || inScope.length < rows.length;
  const labels = [...labelSet(inScope, BANKING77_LABELS), ...(hasNegatives ? [OUT_OF_SCOPE] : [])];
  // The CSV's own out_of_scope rows are split like any label; the bundled ones by source intent.
  const split = stratifiedSplit(rows, s.validationFraction, s.seed);
  const train = [...split.train, ...(bundled?.train ?? [])];
  const validation = [...split.validation, ...(bundled?.validation ?? [])];
  const pieces = trainWordPiece(
    train.map((r) => r.text),
    { vocabSize: s.vocabSize },
  );
  // The shipped tokenizer also corrects misspelt words (spelling.ts) against the training text's
  // words. The members train on the raw, noisy text without it, so that they also learn to read
  // the typos it cannot fix; calibration, the threshold and every answer go through it.
  const tokenizer = pieces.withWords(countWords(train.flatMap((r) => [...preTokenize(normalize(r.text))])));
  const shape: EncoderShape = { ...s.shape, vocabSize: tokenizer.size, numLabels: labels.length };
  const labelIndex = new Map(labels.map((l, i) => [l, i]));
  const encodeWith = (t: WordPieceTokenizer) => (list: Example[]) =>
    list.map((r) => ({ ids: t.encode(r.text, shape.maxTokens).ids, label: labelIndex.get(r.label)! }));
  const encode = encodeWith(tokenizer);
  const trainTexts = train.map((r) => ({ text: r.text, label: labelIndex.get(r.label)! }));
  const encodedValidation = encodeWith(pieces)(validation);
  const jobs: MemberJob[] = Array.from({ length: s.members }, (_, k) => ({
    shape,
    train: trainTexts,
    tokenizer: pieces.toJSON(),
    noise: s.noise,
    validation: encodedValidation,
    seed: s.seed + k,
    epochs: s.epochs,
    batchSize: s.batchSize,
    learningRate: s.learningRate,
    weightDecay: s.weightDecay,
    dropout: s.dropout,
    tokenDropout: s.tokenDropout,
    labelSmoothing: s.labelSmoothing,
  }));
  return {
    labels,
    tokenizer,
    shape,
    train,
    validation,
    ownValidation: split.validation,
    heldOutNegatives: bundled && { test: bundled.test, groups: bundled.groups },
    encode,
    jobs,
  };
}
