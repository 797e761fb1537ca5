/**
 * Every runtime setting of the pipeline, in one place, with its default and its validation.
 *
 * Sources, later ones winning:
 *  1. defaults below;
 *  2. build-time env (Vite modes: `vite --mode vllm` reads `.env.vllm`), `VITE_*` variables:
 *       VITE_MODEL=custom | llama-qlora | vllm | gemini   the active model
 *       VITE_FALLBACK=vllm,custom                 the fallback chain, in order
 *       VITE_ESCALATE_BELOW=0.5                   confidence cascade threshold (0-1)
 *       VITE_LLAMA_ALLOW_WASM=true                run llama-qlora on WebAssembly where WebGPU is missing
 *       VITE_OOS_THRESHOLD=0.4                    out-of-scope threshold (0 = off; unset = the model's own)
 *       VITE_OOS_ESCALATE=true                    send on-device out_of_scope answers on to the remote models
 *       VITE_VLLM_URL=https://vllm.bank.internal  VITE_VLLM_MODEL=…  VITE_VLLM_MODE=chat | classify
 *       VITE_GEMINI_BASE_URL=https://proxy.bank   VITE_GEMINI_MODEL=gemini-2.5-flash
 *  3. URL parameters: `?model=gemini&fallback=custom&escalate=0.6`, `?llama_wasm=1`, `?oos_threshold=0.3`;
 *  4. what the user picks in the UI, or what code passes (`overrides`).
 *
 * API keys are never read from env or URLs: anything in env ends up in the built bundle, and a
 * URL can be shared. Keys come from a runtime setting (or a bank's proxy adds them). For the same
 * reason server endpoints are not taken from URL parameters: a link must not be able to send a
 * customer's text to another server.
 */
import { InvalidInputError } from './errors';

export const MODEL_IDS = ['custom', 'llama-qlora', 'vllm', 'gemini'] as const;
export type ModelId = (typeof MODEL_IDS)[number];

export interface RuntimeConfig {
  model: ModelId;
  fallback: ModelId[];
  /** On-device answers below this confidence go on to the next remote model; undefined = off. */
  escalateBelow?: number;
  /**
   * The fine-tuned Llama needs WebGPU: without it (or with `?device=wasm`) it is unavailable,
   * unless `allowWasm` lets it run on WebAssembly (correct, but slow for a large model).
   */
  llama: { allowWasm: boolean };
  /**
   * Out-of-scope answers. `threshold`: answer `out_of_scope` when the best in-scope label's
   * probability is below it (0 = never; undefined = the threshold stored with each on-device
   * model). `escalate`: whether an on-device `out_of_scope` goes on to the remote models in the
   * chain (off by default: "not banking" is an answer, and the text stays on the device).
   */
  outOfScope: { threshold?: number; escalate: boolean };
  vllm: { url?: string; model?: string; mode: 'chat' | 'classify'; apiKey?: string };
  gemini: { baseUrl?: string; model: string; apiKey?: string };
}

export const DEFAULT_CONFIG: RuntimeConfig = {
  model: 'custom',
  fallback: [],
  llama: { allowWasm: false },
  outOfScope: { escalate: false },
  vllm: { mode: 'chat' },
  gemini: { model: 'gemini-2.5-flash' },
};

export type EnvSource = Record<string, string | boolean | undefined>;

/** Every env variable `resolveConfig` reads (the site names each one for Vite; a test keeps them in step). */
export const CONFIG_ENV_KEYS = [
  'VITE_MODEL',
  'VITE_FALLBACK',
  'VITE_ESCALATE_BELOW',
  'VITE_LLAMA_ALLOW_WASM',
  'VITE_OOS_THRESHOLD',
  'VITE_OOS_ESCALATE',
  'VITE_VLLM_URL',
  'VITE_VLLM_MODEL',
  'VITE_VLLM_MODE',
  'VITE_GEMINI_BASE_URL',
  'VITE_GEMINI_MODEL',
] as const;

export interface ConfigOverrides {
  model?: string;
  fallback?: string[];
  escalateBelow?: number;
  llama?: Partial<RuntimeConfig['llama']>;
  outOfScope?: Partial<RuntimeConfig['outOfScope']>;
  vllm?: Partial<RuntimeConfig['vllm']>;
  gemini?: Partial<RuntimeConfig['gemini']>;
}

/** Merges the sources above and validates the result; throws `InvalidInputError` naming the bad setting. */
export function resolveConfig(sources: { env?: EnvSource; params?: URLSearchParams; overrides?: ConfigOverrides } = {}): RuntimeConfig {
  const env = (key: (typeof CONFIG_ENV_KEYS)[number]) => {
    const value = sources.env?.[key];
    return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
  };
  const param = (key: string) => sources.params?.get(key)?.trim() || undefined;
  const o = sources.overrides ?? {};

  const model = o.model ?? param('model') ?? env('VITE_MODEL') ?? DEFAULT_CONFIG.model;
  const fallbackText = param('fallback') ?? env('VITE_FALLBACK');
  const fallback =
    o.fallback ??
    (fallbackText
      ? fallbackText
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : DEFAULT_CONFIG.fallback);
  const escalateText = param('escalate') ?? env('VITE_ESCALATE_BELOW');
  const escalateBelow = o.escalateBelow ?? (escalateText === undefined ? undefined : Number(escalateText));
  const vllmMode = o.vllm?.mode ?? env('VITE_VLLM_MODE') ?? DEFAULT_CONFIG.vllm.mode;
  const llamaWasmText = param('llama_wasm') ?? env('VITE_LLAMA_ALLOW_WASM');
  const oosThresholdText = param('oos_threshold') ?? env('VITE_OOS_THRESHOLD');
  const oosThreshold = o.outOfScope?.threshold ?? (oosThresholdText === undefined ? undefined : Number(oosThresholdText));
  const oosEscalateText = param('oos_escalate') ?? env('VITE_OOS_ESCALATE');

  const config: RuntimeConfig = {
    model: modelId(model, 'model'),
    fallback: fallback.map((id) => modelId(id, 'fallback')),
    llama: {
      allowWasm:
        o.llama?.allowWasm ??
        (llamaWasmText === undefined ? DEFAULT_CONFIG.llama.allowWasm : flag(llamaWasmText, 'llama_wasm (VITE_LLAMA_ALLOW_WASM)')),
    },
    outOfScope: {
      escalate:
        o.outOfScope?.escalate ??
        (oosEscalateText === undefined ? DEFAULT_CONFIG.outOfScope.escalate : flag(oosEscalateText, 'oos_escalate (VITE_OOS_ESCALATE)')),
    },
    vllm: {
      url: optionalUrl(o.vllm?.url ?? env('VITE_VLLM_URL'), 'vLLM URL'),
      model: o.vllm?.model ?? env('VITE_VLLM_MODEL'),
      mode: vllmMode === 'chat' || vllmMode === 'classify' ? vllmMode : invalid(`vLLM mode must be chat or classify, got "${vllmMode}"`),
      apiKey: o.vllm?.apiKey,
    },
    gemini: {
      baseUrl: optionalUrl(o.gemini?.baseUrl ?? env('VITE_GEMINI_BASE_URL'), 'Gemini base URL'),
      model: o.gemini?.model ?? env('VITE_GEMINI_MODEL') ?? DEFAULT_CONFIG.gemini.model,
      apiKey: o.gemini?.apiKey,
    },
  };
  if (escalateBelow !== undefined) {
    if (!(escalateBelow >= 0 && escalateBelow <= 1))
      invalid(`escalate-below must be a number between 0 and 1, got "${escalateText ?? escalateBelow}"`);
    config.escalateBelow = escalateBelow;
  }
  if (oosThreshold !== undefined) config.outOfScope.threshold = checkOosThreshold(oosThreshold, oosThresholdText);
  return config;
}

/** An out-of-scope threshold is a probability: 0 (rejection off) to 1 (reject everything). */
export function checkOosThreshold(value: number, text: string | number = value): number {
  if (!(value >= 0 && value <= 1)) invalid(`The out-of-scope threshold must be a number between 0 and 1 (0 turns it off), got "${text}"`);
  return value;
}

function modelId(value: string, setting: string): ModelId {
  if ((MODEL_IDS as readonly string[]).includes(value)) return value as ModelId;
  return invalid(`Unknown ${setting} "${value}": choose one of ${MODEL_IDS.join(', ')}.`);
}

const TRUE_WORDS = ['1', 'true', 'yes', 'on'];
const FALSE_WORDS = ['0', 'false', 'no', 'off'];

/** An on/off setting: `1`, `true`, `yes`, `on` or `0`, `false`, `no`, `off` (any case); undefined for anything else. */
export function parseFlag(value: string): boolean | undefined {
  const word = value.trim().toLowerCase();
  if (TRUE_WORDS.includes(word)) return true;
  if (FALSE_WORDS.includes(word)) return false;
  return undefined;
}

function flag(value: string, name: string): boolean {
  return parseFlag(value) ?? invalid(`${name} must be true or false (1 or 0), got "${value}"`);
}

function optionalUrl(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
    return value.replace(/\/+$/, '');
  } catch {
    return invalid(`The ${name} "${value}" is not an http(s) URL.`);
  }
}

function invalid(message: string): never {
  throw new InvalidInputError(message);
}
