/** What a custom-model training run measured: written as training-report.json and read by the model card. */
import type { EvalReport } from '../bench/evaluate';
import type { ThresholdChoice } from './oos-threshold';
import type { TrainingSettings } from './prepare';

export interface TrainingReport {
  settings: TrainingSettings & { parallel: number };
  labels: number;
  vocabSize: number;
  /** Known words for spelling correction (spelling.json; inside tokenizer.json in older folders). */
  spellingWords: number;
  parametersPerMember: number;
  members: { seed: number; bestEpoch: number; validationAccuracy: number; wallSeconds: number; cached: boolean }[];
  temperature: number;
  validation: { nllBefore: number; nllAfter: number; report: EvalReport };
  test?: EvalReport;
  /** `test` with 1-2 seeded typos per message (training/typos.ts `perturbText`). */
  testTypos?: EvalReport & { seed: number };
  /** `test` plus the bundled out-of-scope rows held out from training and from every choice. */
  testWithNegatives?: EvalReport;
  /** The out-of-scope threshold stored with the model, and how it was chosen. */
  outOfScope?: ThresholdChoice;
  negatives?: { train: number; validation: number; test: number; groups: { train: string[]; validation: string[]; test: string[] } };
  /** Size in bytes of each file a runtime loads, by its path in the folder. */
  files: Record<string, number>;
  seconds: { members: number; total: number };
}
