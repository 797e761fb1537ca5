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
 *       VITE_REMOTE=vllm,gemini                   remote models the page may send text to (see below)
 *  3. URL parameters: `?model=gemini&fallback=custom&escalate=0.6`, `?llama_wasm=1`, `?oos_threshold=0.3`;
 *  4. what the user picks in the UI, or what code passes (`overrides`).
 *
 * API keys are never read from env or URLs: anything in env ends up in the built bundle, and a
 * URL can be shared. Keys come from a runtime setting (or a bank's proxy adds them). For the same
 * reason server endpoints are not taken from URL parameters, and a URL that carries credentials
 * (`https://user:pass@host`, `?key=…`) is refused from every source (vite.config.ts's env guard
 * refuses it at build time too).
 *
 * A link must not be able to send a customer's text off the device. A remote model is *allowed*
 * when the build's env names it (`VITE_REMOTE`, `VITE_MODEL` or `VITE_FALLBACK`) or code / the
 * user does (`overrides`: the CLI's flags, the widget's attributes, the site's "Remote models"
 * panel). URL parameters choose only among allowed models: a `?model=` or `?fallback=` naming a
 * remote model that is configured (it has a server) but not allowed is dropped and listed in
 * `remote.refused`, for the page to say so. One that is not configured is kept: it cannot send
 * anything, and says why when asked.
 */
import { InvalidInputError } from './errors';
import { credentialsInUrl } from './url-credentials';

export const MODEL_IDS = ['custom', 'llama-qlora', 'vllm', 'gemini'] as const;
export type ModelId = (typeof MODEL_IDS)[number];

/** The models that send text off the device. */
export const REMOTE_MODEL_IDS = ['vllm', 'gemini'] as const;
export type RemoteModelId = (typeof REMOTE_MODEL_IDS)[number];

export function isRemoteModel(id: string): id is RemoteModelId {
  return (REMOTE_MODEL_IDS as readonly string[]).includes(id);
}

/** URL parameters that decide where a message may go. */
export type RoutingParam = 'model' | 'fallback' | 'escalate' | 'oos_escalate';

/** Which remote models may receive text, and what the page's address asked for (see the top of this file). */
export interface RemoteConsent {
  /** Remote models the build's env or code/the user allowed. */
  allowed: RemoteModelId[];
  /** Remote models a URL parameter asked for that are configured but not allowed: ignored. */
  refused: { param: 'model' | 'fallback'; id: RemoteModelId }[];
  /** Routing settings that came from the URL (for the page to say where messages go, and why). */
  fromUrl: RoutingParam[];
}

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
  remote: RemoteConsent;
}

/** How many labels `top` holds unless the caller asks otherwise. */
export const DEFAULT_TOP_K = 5;

/** The Gemini model asked when the config names none. */
export const GEMINI_DEFAULT_MODEL = 'gemini-2.5-flash';

/** How the pipeline retries, waits, times out and skips failing adapters (see src/pipeline/policy.ts). */
export interface RouterPolicy {
  /** Extra attempts on the same adapter after a retryable error (timeout, 408, 409, 429, >= 500, network). */
  retries: number;
  /** First backoff; doubles with each retry, with jitter, up to `maxBackoffMs`. */
  backoffMs: number;
  maxBackoffMs: number;
  /** A server asking to wait longer than this (Retry-After, RetryInfo) is skipped for that long instead. */
  maxRetryAfterMs: number;
  /**
   * The longest a server's own Retry-After may keep it out of use: one header must not disable it
   * for days. After that, one probe request checks it as after any outage.
   */
  maxServerCooldownMs: number;
  /** Limit for one classify call on one adapter. */
  timeoutMs: number;
  /** Limit for loading an adapter (model download, session creation, server check). */
  loadTimeoutMs: number;
  /** Failures within `failureWindowMs` that open an adapter's circuit (it is skipped meanwhile). */
  allowedFails: number;
  failureWindowMs: number;
  /**
   * How long an open circuit waits before one request probes the adapter (the others keep
   * skipping it). A failed probe doubles the wait, up to `maxProbeIntervalMs`; a good one closes
   * the circuit. Replaces the former fixed `cooldownMs`.
   */
  probeIntervalMs: number;
  maxProbeIntervalMs: number;
}

/** The router's defaults; `policy` in the runtime options overrides any of them (checked by resolvePolicy). */
export const DEFAULT_POLICY: RouterPolicy = {
  retries: 2,
  backoffMs: 200,
  maxBackoffMs: 4_000,
  maxRetryAfterMs: 10_000,
  maxServerCooldownMs: 300_000,
  timeoutMs: 15_000,
  loadTimeoutMs: 120_000,
  allowedFails: 3,
  failureWindowMs: 60_000,
  probeIntervalMs: 2_000,
  maxProbeIntervalMs: 60_000,
};

export const DEFAULT_CONFIG: RuntimeConfig = {
  model: 'custom',
  fallback: [],
  llama: { allowWasm: false },
  outOfScope: { escalate: false },
  vllm: { mode: 'chat' },
  gemini: { model: GEMINI_DEFAULT_MODEL },
  remote: { allowed: [], refused: [], fromUrl: [] },
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
  'VITE_REMOTE',
] as const;

export interface ConfigOverrides {
  /** The model asked first: `custom`, `llama-qlora`, `vllm` or `gemini`. */
  model?: string;
  /** Tried in order when the model before fails: a list, or the same as text (`"vllm, custom"`). */
  fallback?: string | readonly string[];
  /** Confidence cascade (0-1): an on-device answer below it goes on to the next remote model in the chain. Default off. */
  escalateBelow?: number;
  /** `{ allowWasm: true }` runs llama-qlora on WebAssembly where WebGPU is missing (slow). Default false. */
  llama?: Partial<RuntimeConfig['llama']>;
  /** `{ threshold }`: 0-1, 0 = never answer out_of_scope (default: each model's own); `{ escalate: true }` sends on-device out_of_scope answers to the remote models. */
  outOfScope?: Partial<RuntimeConfig['outOfScope']>;
  /** The bank's vLLM server: `{ url, model, mode: 'chat' | 'classify', apiKey }`. Personal data is masked before anything is sent. */
  vllm?: Partial<RuntimeConfig['vllm']>;
  /** Gemini: `{ baseUrl }` of the bank's proxy, or `{ apiKey }` (held in memory only), and `model` (default gemini-2.5-flash). */
  gemini?: Partial<RuntimeConfig['gemini']>;
  /** Remote models the user or code allows besides those named in `model` and `fallback` (the site's settings panel). */
  allowRemote?: readonly string[];
}

/** Merges the sources above and validates the result; throws `InvalidInputError` naming the bad setting. */
export function resolveConfig(sources: { env?: EnvSource; params?: URLSearchParams; overrides?: ConfigOverrides } = {}): RuntimeConfig {
  const env = (key: (typeof CONFIG_ENV_KEYS)[number]) => {
    const value = sources.env?.[key];
    return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
  };
  const param = (key: string) => sources.params?.get(key)?.trim() || undefined;
  const o = sources.overrides ?? {};
  const fromUrl: RoutingParam[] = [];
  const overrideFallback = o.fallback === undefined ? undefined : parseModelList(o.fallback);

  const vllmMode = o.vllm?.mode ?? env('VITE_VLLM_MODE') ?? DEFAULT_CONFIG.vllm.mode;
  const vllm: RuntimeConfig['vllm'] = {
    url: optionalUrl(o.vllm?.url ?? env('VITE_VLLM_URL'), 'vLLM URL'),
    model: o.vllm?.model ?? env('VITE_VLLM_MODEL'),
    mode: vllmMode === 'chat' || vllmMode === 'classify' ? vllmMode : invalid(`vLLM mode must be chat or classify, got "${vllmMode}"`),
    apiKey: o.vllm?.apiKey,
  };
  const gemini: RuntimeConfig['gemini'] = {
    baseUrl: optionalUrl(o.gemini?.baseUrl ?? env('VITE_GEMINI_BASE_URL'), 'Gemini base URL'),
    model: o.gemini?.model ?? env('VITE_GEMINI_MODEL') ?? DEFAULT_CONFIG.gemini.model,
    apiKey: o.gemini?.apiKey,
  };

  const envModel = env('VITE_MODEL');
  const envFallback = list(env('VITE_FALLBACK'));
  const allowed = new Set<RemoteModelId>();
  for (const id of list(env('VITE_REMOTE'))) {
    if (!isRemoteModel(id))
      invalid(`VITE_REMOTE lists the remote models the page may send messages to (${REMOTE_MODEL_IDS.join(', ')}); got "${id}".`);
    allowed.add(id);
  }
  for (const id of [envModel, ...envFallback, o.model, ...(overrideFallback ?? []), ...(o.allowRemote ?? [])]) {
    if (id !== undefined && isRemoteModel(id)) allowed.add(id);
  }
  const refused: RemoteConsent['refused'] = [];
  // What a URL parameter may name: any on-device model, a remote one the configuration allows,
  // or one without a server (it cannot send anything).
  const permitted = (id: ModelId, name: 'model' | 'fallback') => {
    if (!isRemoteModel(id) || allowed.has(id) || !remoteConfigured({ vllm, gemini }, id)) return true;
    refused.push({ param: name, id });
    return false;
  };

  let model = o.model;
  const modelParam = param('model');
  if (model === undefined && modelParam !== undefined && permitted(modelId(modelParam, 'model'), 'model')) {
    model = modelParam;
    fromUrl.push('model');
  }
  model ??= envModel ?? DEFAULT_CONFIG.model;

  let fallback = overrideFallback;
  const fallbackParam = param('fallback');
  if (fallback === undefined && fallbackParam !== undefined) {
    const asked = list(fallbackParam).map((id) => modelId(id, 'fallback'));
    const kept = asked.filter((id) => permitted(id, 'fallback'));
    // Left empty only by refusals, the parameter is ignored as a whole: the build's chain applies.
    if (kept.length > 0 || kept.length === asked.length) {
      fallback = kept;
      fromUrl.push('fallback');
    }
  }
  fallback ??= envFallback.length > 0 ? envFallback : DEFAULT_CONFIG.fallback;

  const escalateParam = o.escalateBelow === undefined ? param('escalate') : undefined;
  if (escalateParam !== undefined) fromUrl.push('escalate');
  const escalateText = escalateParam ?? env('VITE_ESCALATE_BELOW');
  const escalateBelow = o.escalateBelow ?? (escalateText === undefined ? undefined : Number(escalateText));
  const llamaWasmText = param('llama_wasm') ?? env('VITE_LLAMA_ALLOW_WASM');
  const oosThresholdText = param('oos_threshold') ?? env('VITE_OOS_THRESHOLD');
  const oosThreshold = o.outOfScope?.threshold ?? (oosThresholdText === undefined ? undefined : Number(oosThresholdText));
  const oosEscalateParam = o.outOfScope?.escalate === undefined ? param('oos_escalate') : undefined;
  if (oosEscalateParam !== undefined) fromUrl.push('oos_escalate');
  const oosEscalateText = oosEscalateParam ?? env('VITE_OOS_ESCALATE');

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
    vllm,
    gemini,
    remote: { allowed: REMOTE_MODEL_IDS.filter((id) => allowed.has(id)), refused, fromUrl },
  };
  if (escalateBelow !== undefined) {
    if (!(escalateBelow >= 0 && escalateBelow <= 1))
      invalid(`escalate-below must be a number between 0 and 1, got "${o.escalateBelow ?? escalateText}"`);
    config.escalateBelow = escalateBelow;
  }
  if (oosThreshold !== undefined) config.outOfScope.threshold = checkOosThreshold(oosThreshold, oosThresholdText);
  return config;
}

/**
 * Whether a remote model has what it needs to send text anywhere (the same test as
 * src/runtime/adapter-factories.ts): vLLM a URL and a model name, Gemini a proxy URL or an API key.
 */
export function remoteConfigured(config: Pick<RuntimeConfig, 'vllm' | 'gemini'>, id: RemoteModelId): boolean {
  return id === 'vllm' ? Boolean(config.vllm.url && config.vllm.model) : Boolean(config.gemini.apiKey || config.gemini.baseUrl);
}

/** Whether `id` may receive text under `config` (on-device models always may). */
export function remoteAllowed(config: Pick<RuntimeConfig, 'remote'>, id: string): boolean {
  return !isRemoteModel(id) || config.remote.allowed.includes(id);
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
  let url: URL;
  try {
    url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidInputError('not http(s)');
  } catch {
    // Quoted only when it cannot hold a secret (`user:pass@host` without a scheme is not a URL either).
    const shown = /[@?#]/.test(value) ? '' : ` "${value}"`;
    return invalid(`The ${name}${shown} is not an http(s) URL.`);
  }
  const credentials = credentialsInUrl(url);
  // The value itself is not repeated: it holds a secret.
  if (credentials) {
    invalid(
      `The ${name} carries credentials (${credentials}). A URL is shown, logged and built into pages: let the bank's proxy add them, or give the API key as its own setting.`,
    );
  }
  return value.replace(/\/+$/, '');
}

/**
 * The one parser for a list of model ids (the fallback chain, `VITE_REMOTE`): an array, or text
 * separated by commas; items trimmed, empty ones dropped. Ids are checked by the caller.
 */
export function parseModelList(value: string | readonly string[] | undefined): string[] {
  const items = typeof value === 'string' ? value.split(',') : [...(value ?? [])];
  return items.map((s) => s.trim()).filter(Boolean);
}

const list = (text: string | undefined): string[] => parseModelList(text);

/** The overrides that reproduce `config` (with its remote consent) through `resolveConfig`. */
function configAsOverrides(config: RuntimeConfig): ConfigOverrides {
  return {
    model: config.model,
    fallback: config.fallback,
    escalateBelow: config.escalateBelow,
    llama: { ...config.llama },
    outOfScope: { ...config.outOfScope },
    vllm: { ...config.vllm },
    gemini: { ...config.gemini },
    allowRemote: config.remote.allowed,
  };
}

/**
 * `config` with `changes` on top, validated as a whole (throws `InvalidInputError` and changes
 * nothing when a value is bad). Nested settings merge key by key: `{ vllm: { model: 'x' } }`
 * keeps the vLLM URL; a key given as `undefined` clears it (`{ escalateBelow: undefined }`
 * turns the cascade off). What the address refused stays recorded.
 */
export function mergeConfig(config: RuntimeConfig, changes: ConfigOverrides): RuntimeConfig {
  const base = configAsOverrides(config);
  const merged: ConfigOverrides = { ...base, ...changes };
  for (const key of ['llama', 'outOfScope', 'vllm', 'gemini'] as const) {
    if (changes[key]) Object.assign(merged, { [key]: { ...base[key], ...changes[key] } });
  }
  merged.allowRemote = [...(base.allowRemote ?? []), ...(changes.allowRemote ?? [])];
  // No env and no address here: a setting left undefined is none (or its default).
  const next = resolveConfig({ overrides: merged });
  next.remote.refused = config.remote.refused;
  next.remote.fromUrl = config.remote.fromUrl;
  return next;
}

function invalid(message: string): never {
  throw new InvalidInputError(message);
}
