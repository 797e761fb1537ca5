/**
 * npm run train:llama -- [--stage base|qlora|merge|all] [--work .cache/llama] [--out public/models/llama-qlora]
 *
 * Rebuilds the bundled demo Llama in three steps, each reading the previous one's files:
 *   base   a small Llama trained from nothing as a causal LM on Banking77's training rows (written as
 *          prompt + label) and the HWU64 utterances → WORK/base (a Hugging Face folder: config.json,
 *          model.safetensors, tokenizer)
 *   qlora  the base frozen in NF4, LoRA adapters on every projection trained to write the intent
 *          after the prompt → WORK/adapter (adapter_config.json, adapter_model.safetensors, classifier.json)
 *   merge  `merge-qlora` on the two (the command a bank runs on its own Llama) → OUT, then the model card
 *          with validation and test figures, and the base alone on validation (merged with a zero adapter)
 * --base-from DIR: the base step reads an existing model folder of ours (its float32 onnx/model.onnx)
 *          instead of training from nothing: QLoRA then fine-tunes that model again, as a bank retunes
 *          its own tuned Llama. The bundled demo was last built so, from the previous bundle.
 * QLoRA reads Banking77's training rows and the bundled out-of-scope examples (label `out_of_scope`,
 * src/training/negatives.ts); the merge step chooses the out-of-scope threshold on validation.
 * Settings: src/training/llama/settings.ts; `--r --alpha --epochs --lr --token-dropout` override QLoRA's. `--steps N` cuts each step short and
 * evaluates on 50 rows only (smoke runs).
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { QLORA_SETTINGS } from '../src/training/llama/settings';
import { LLAMA_STAGES, baseFromModel, mergeAndReport, trainAdapter, trainBase, type LlamaStage } from '../src/training/llama/stages';
import { defineCommand, positiveInt, positiveNumber, runCli } from './lib/cli';

/** The command that rebuilds this model from nothing: the given flags without `--stage`. */
function reproduceCommand(argv: string[]): string {
  const kept = argv.filter((a, i) => a !== '--stage' && argv[i - 1] !== '--stage' && !a.startsWith('--stage='));
  return ['npm run train:llama', ...(kept.length ? ['--', ...kept] : [])].join(' ');
}

const command = defineCommand({
  command: 'npm run train:llama --',
  summary: `Rebuilds the bundled demo Llama in three steps, each reading the previous one's files: base (a small Llama
    trained from nothing, or read from --base-from), qlora (LoRA adapters on the NF4 base, trained to write the intent),
    merge (merge-qlora on the two, then the out-of-scope threshold, the model card with validation and test figures).`,
  options: {
    stage: { type: 'string', default: 'all', choices: ['all', ...LLAMA_STAGES], description: 'the step(s) to run' },
    work: { type: 'string', value: 'DIR', default: '.cache/llama', description: "the steps' folders (base/, adapter/)" },
    'base-from': {
      type: 'string',
      value: 'DIR',
      defaultText: 'train the base from nothing',
      description: 'read the base from a model folder of ours (its float32 onnx/model.onnx)',
    },
    out: { type: 'string', value: 'DIR', default: 'public/models/llama-qlora', description: 'the merged model folder' },
    // QLoRA settings other than settings.ts's, to compare on the validation split.
    r: { type: 'string', value: 'N', default: String(QLORA_SETTINGS.r), description: 'LoRA rank' },
    alpha: { type: 'string', value: 'A', default: String(QLORA_SETTINGS.alpha), description: 'LoRA alpha' },
    epochs: { type: 'string', value: 'N', default: String(QLORA_SETTINGS.epochs), description: 'QLoRA epochs' },
    lr: { type: 'string', value: 'RATE', default: String(QLORA_SETTINGS.learningRate), description: 'QLoRA learning rate' },
    'token-dropout': {
      type: 'string',
      value: 'P',
      default: String(QLORA_SETTINGS.tokenDropout),
      description: 'QLoRA token dropout rate',
    },
    // For smoke runs: stop each training step after N updates.
    steps: { type: 'string', value: 'N', defaultText: 'full runs', description: 'smoke run: N updates per step, 50 rows per evaluation' },
  },
  examples: [
    'npm run train:llama',
    'npm run train:llama -- --stage merge',
    'npm run train:llama -- --steps 20 --work /tmp/llama --out /tmp/llama-out',
  ],
});

runCli(async () => {
  const { values } = command.parse();
  const stage = values.stage;
  const run = (s: LlamaStage) => stage === 'all' || stage === s;
  const maxSteps = values.steps === undefined ? undefined : positiveInt(values.steps, 'steps', 1);
  await tf.setBackend('wasm');
  await tf.ready();
  if (run('base')) await (values['base-from'] ? baseFromModel(values.work!, values['base-from']) : trainBase(values.work!, maxSteps));
  if (run('qlora'))
    await trainAdapter(
      values.work!,
      {
        ...QLORA_SETTINGS,
        r: positiveInt(values.r, 'r', QLORA_SETTINGS.r),
        alpha: positiveNumber(values.alpha, 'alpha', QLORA_SETTINGS.alpha),
        epochs: positiveInt(values.epochs, 'epochs', QLORA_SETTINGS.epochs),
        learningRate: positiveNumber(values.lr, 'lr', QLORA_SETTINGS.learningRate),
        tokenDropout: positiveNumber(values['token-dropout'], 'token-dropout', QLORA_SETTINGS.tokenDropout),
      },
      maxSteps,
    );
  if (run('merge'))
    await mergeAndReport(values.work!, values.out!, {
      command: reproduceCommand(process.argv.slice(2)),
      evalLimit: maxSteps && 50,
      progress: (line) => process.stderr.write(`\r${line}`),
    });
});
