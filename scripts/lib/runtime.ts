/** Builds the command line's one runtime from flags and environment variables. */
import { checkOosThreshold } from '../../src/core/config';
import { createIntentRuntime } from '../../src/runtime/node';
import type { IntentRuntime } from '../../src/runtime/intent-runtime';
import { numberFlag } from './cli';

/** The flags every command that classifies accepts, for `parseArgs`. */
export const PIPELINE_FLAGS = {
  model: { type: 'string', default: 'custom' },
  'model-dir': { type: 'string' },
  'llama-dir': { type: 'string' },
  fallback: { type: 'string' },
  'escalate-below': { type: 'string' },
  'oos-threshold': { type: 'string' },
  'oos-escalate': { type: 'boolean' },
  'vllm-url': { type: 'string' },
  'vllm-model': { type: 'string' },
  'vllm-mode': { type: 'string' },
  'gemini-base-url': { type: 'string' },
  'gemini-model': { type: 'string' },
  'timeout-ms': { type: 'string' },
} as const;

export interface PipelineFlags {
  model?: string;
  'model-dir'?: string;
  'llama-dir'?: string;
  fallback?: string;
  'escalate-below'?: string;
  /** Out-of-scope threshold, 0-1 (0 = rejection off); absent = each on-device model's own. */
  'oos-threshold'?: string;
  /** Send on-device `out_of_scope` answers on to the remote models in the chain. */
  'oos-escalate'?: boolean;
  'vllm-url'?: string;
  'vllm-model'?: string;
  'vllm-mode'?: string;
  'gemini-base-url'?: string;
  'gemini-model'?: string;
  'timeout-ms'?: string;
}

/** API keys come from the environment only (VLLM_API_KEY, GEMINI_API_KEY), never from flags: flags end up in shell history. */
export function runtimeFromFlags(flags: PipelineFlags, env: NodeJS.ProcessEnv = process.env): IntentRuntime {
  const oosThresholdText = flags['oos-threshold'];
  const oosThreshold = numberFlag(oosThresholdText);
  // Checked here too, so that the message quotes what was typed rather than NaN.
  if (oosThreshold !== undefined) checkOosThreshold(oosThreshold, oosThresholdText);
  const timeoutMs = flags['timeout-ms'] === undefined ? undefined : Number(flags['timeout-ms']);
  return createIntentRuntime({
    model: flags.model,
    fallback: flags.fallback,
    escalateBelow: flags['escalate-below'] === undefined ? undefined : Number(flags['escalate-below']),
    outOfScope: { threshold: oosThreshold, escalate: flags['oos-escalate'] },
    vllm: {
      url: flags['vllm-url'],
      model: flags['vllm-model'],
      mode: flags['vllm-mode'] as 'chat' | 'classify' | undefined,
      apiKey: env.VLLM_API_KEY,
    },
    gemini: { baseUrl: flags['gemini-base-url'], model: flags['gemini-model'], apiKey: env.GEMINI_API_KEY },
    policy: timeoutMs === undefined ? {} : { timeoutMs },
    modelDir: flags['model-dir'],
    llamaDir: flags['llama-dir'],
  });
}
