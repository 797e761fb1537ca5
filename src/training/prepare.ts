/**
 * Everything before the first gradient step: read the CSV, carve the validation split, learn the
 * tokenizer on the training part, encode, and describe one job per ensemble member.
 */
import { BANKING77_LABELS } from '../core/labels';
import { DEFAULT_SHAPE, type EncoderShape } from '../models/custom/config';
import { trainWordPiece, type WordPieceTokenizer } from '../tokenizer/wordpiece';
import { labelSet, readLabelledCsv, stratifiedSplit, type Example } from './data';
import type { MemberJob } from './members';
import type { EncodedExample } from './batches';
import type { Hyperparameters } from './train-member';

export interface TrainingSettings extends Hyperparameters {
  data: string;
  seed: number;
  members: number;
  vocabSize: number;
  validationFraction: number;
  shape: Omit<EncoderShape, 'vocabSize' | 'numLabels'>;
}

export const DEFAULT_SETTINGS: Omit<TrainingSettings, 'data'> = {
  seed: 20261122,
  members: 4,
  epochs: 20,
  batchSize: 32,
  learningRate: 1e-3,
  weightDecay: 0.01,
  dropout: 0.1,
  tokenDropout: 0.1,
  labelSmoothing: 0.1,
  vocabSize: 2000,
  validationFraction: 0.1,
  shape: DEFAULT_SHAPE,
};

export interface PreparedTraining {
  labels: string[];
  tokenizer: WordPieceTokenizer;
  shape: EncoderShape;
  train: Example[];
  validation: Example[];
  encode: (rows: Example[]) => EncodedExample[];
  jobs: MemberJob[];
}

export function prepareTraining(s: TrainingSettings): PreparedTraining {
  const rows = readLabelledCsv(s.data);
  const labels = labelSet(rows, BANKING77_LABELS);
  const { train, validation } = stratifiedSplit(rows, s.validationFraction, s.seed);
  const tokenizer = trainWordPiece(
    train.map((r) => r.text),
    { vocabSize: s.vocabSize },
  );
  const shape: EncoderShape = { ...s.shape, vocabSize: tokenizer.size, numLabels: labels.length };
  const labelIndex = new Map(labels.map((l, i) => [l, i]));
  const encode = (list: Example[]) =>
    list.map((r) => ({ ids: tokenizer.encode(r.text, shape.maxTokens).ids, label: labelIndex.get(r.label)! }));
  const encodedTrain = encode(train);
  const encodedValidation = encode(validation);
  const jobs: MemberJob[] = Array.from({ length: s.members }, (_, k) => ({
    shape,
    train: encodedTrain,
    validation: encodedValidation,
    seed: s.seed + k,
    epochs: s.epochs,
    batchSize: s.batchSize,
    learningRate: s.learningRate,
    weightDecay: s.weightDecay,
    dropout: s.dropout,
    tokenDropout: s.tokenDropout,
    labelSmoothing: s.labelSmoothing,
    unkId: tokenizer.unkId,
    padId: tokenizer.padId,
  }));
  return { labels, tokenizer, shape, train, validation, encode, jobs };
}
