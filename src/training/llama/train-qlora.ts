/**
 * QLoRA (Dettmers et al. 2023) in tfjs: the base model's projections are frozen in NF4 (stored
 * 4-bit, dequantised for the forward pass), LoRA A and B on the target projections are the only
 * trained weights, and the loss covers only the label tokens that follow each prompt. The result is
 * a PEFT adapter (`base_model.model.<module>.lora_A.weight` ...) that merge.ts can merge.
 */
import type { LlamaConfig } from '../../models/llama/config';
import { peftLoraConfig, type LlamaProjection } from '../../models/llama/lora';
import { nf4RoundTrip } from './nf4';
import type { LlamaTensor, LlamaWeights } from '../../models/llama/reference';
import { LlamaTfModel } from '../../models/llama/tf-model';
import { trainLoop, type ClmExample, type TrainLoopOptions, type TrainLoopResult } from './train-clm';

/** A prompt and the tokens the model should learn to continue it with. */
export interface PromptCompletion {
  prompt: number[];
  completion: number[];
}

/** One sequence, prompt then completion, with the loss on the completion only. */
export function promptCompletionExample({ prompt, completion }: PromptCompletion): ClmExample {
  return { ids: [...prompt, ...completion], lossMask: [...prompt.map(() => 0), ...completion.map(() => 1)] };
}

/**
 * The base as QLoRA's forward pass sees it: each projection matrix after an NF4 round trip.
 * Embeddings, the output head and norm gains stay in full precision, as in QLoRA.
 */
export function nf4FrozenBase(weights: LlamaWeights): LlamaWeights {
  const out: LlamaWeights = {};
  for (const [name, w] of Object.entries(weights))
    out[name] = name.endsWith('_proj.weight') ? { shape: [...w.shape], data: nf4RoundTrip(w.data, w.shape) } : w;
  return out;
}

export interface TrainQloraOptions extends Omit<TrainLoopOptions, 'examples'> {
  config: LlamaConfig;
  /** The base in full precision; it is quantised to NF4 here. */
  baseWeights: LlamaWeights;
  examples: PromptCompletion[];
  r: number;
  alpha: number;
  targetModules: readonly LlamaProjection[];
}

export interface TrainQloraResult extends TrainLoopResult {
  /** PEFT-named tensors: lora_A [r, in], lora_B [out, r]. */
  adapter: Record<string, LlamaTensor>;
  /** The `adapter_config.json` PEFT writes for it (what merge.ts's parseAdapterConfig reads). */
  adapterConfig: Record<string, unknown>;
}

export function trainQlora(o: TrainQloraOptions): TrainQloraResult {
  const model = new LlamaTfModel(o.config, nf4FrozenBase(o.baseWeights), {
    lora: { r: o.r, alpha: o.alpha, targetModules: o.targetModules, seed: o.seed },
  });
  try {
    const result = trainLoop(model, model.trainableVariables(), { ...o, examples: o.examples.map(promptCompletionExample) });
    return {
      ...result,
      adapter: model.adapterWeights(),
      adapterConfig: peftLoraConfig(o.r, o.alpha, o.targetModules),
    };
  } finally {
    model.dispose();
  }
}
