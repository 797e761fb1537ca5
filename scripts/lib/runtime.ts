/** Builds the command line's one runtime from flags and environment variables. */
import { checkOosThreshold, GEMINI_DEFAULT_MODEL } from '../../src/core/config';
import { createIntentRuntime } from '../../src/runtime/node';
import type { IntentRuntime } from '../../src/runtime/intent-runtime';
import { numberFlag } from './cli';

/** The flags every command that classifies accepts, for `defineCommand` (scripts/lib/cli.ts): the parser and --help. */
export const PIPELINE_FLAGS = {
  model: {
    type: 'string',
    default: 'custom',
    value: 'NAME',
    description: 'the model that answers first: custom, llama-qlora (on the device), vllm or gemini (remote)',
  },
  'model-dir': { type: 'string', value: 'DIR', defaultText: 'public/models/custom', description: "the custom model's folder" },
  'llama-dir': { type: 'string', value: 'DIR', defaultText: 'public/models/llama-qlora', description: "the llama-qlora model's folder" },
  fallback: { type: 'string', value: 'A,B', defaultText: 'none', description: 'models to try, in order, when the active one fails' },
  'escalate-below': {
    type: 'string',
    value: 'P',
    defaultText: 'off',
    description: 'send an on-device answer whose confidence is below P (0-1) on to the next remote model',
  },
  'oos-threshold': {
    type: 'string',
    value: 'P',
    defaultText: "each on-device model's own",
    description: "answer out_of_scope when the best intent's probability is below P (0-1; 0 = never)",
  },
  'oos-escalate': {
    type: 'boolean',
    description: 'send on-device out_of_scope answers on to the next remote model (off: the text stays on the device)',
  },
  'vllm-url': { type: 'string', value: 'URL', defaultText: 'none', description: "the bank's vLLM server or proxy (key: VLLM_API_KEY)" },
  'vllm-model': { type: 'string', value: 'NAME', defaultText: 'none', description: 'the model name on the vLLM server' },
  'vllm-mode': { type: 'string', choices: ['chat', 'classify'], defaultText: 'chat', description: 'how vLLM is asked' },
  'gemini-base-url': {
    type: 'string',
    value: 'URL',
    defaultText: 'none',
    description: "the bank's Gemini proxy (key: GEMINI_API_KEY)",
  },
  'gemini-model': { type: 'string', value: 'NAME', defaultText: GEMINI_DEFAULT_MODEL, description: 'the Gemini model' },
  'timeout-ms': { type: 'string', value: 'MS', defaultText: '15000', description: 'time limit for each model call' },
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
