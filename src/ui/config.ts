/**
 * The site's settings. Two kinds, each with one home:
 *
 * Which model answers (the active model, the fallback chain, the confidence cascade, the remote
 * servers) is the runtime config of `src/core/config.ts`, shared with the command line: Vite env
 * (`VITE_MODEL`, `VITE_VLLM_URL`, ... from `vite --mode vllm`), then the URL parameters
 * `?model=`, `?fallback=`, `?escalate=`, then what the user enters in the page (`overrides`).
 * Server endpoints and API keys never come from the URL; keys only from the page, in memory. The
 * URL parameters choose only among the remote models the build allows (`VITE_REMOTE`, or named in
 * `VITE_MODEL` / `VITE_FALLBACK`) or the user allows in the page (by choosing one in the Model
 * list, or applying the "Remote models" panel with its server): see src/core/config.ts.
 *
 * Where the site's own files are, which exists only in the browser, is read here:
 *
 *   /                        the custom model from `<base>models/custom/`, WebGPU when available
 *   /?device=wasm            force the WASM backend (also `?device=webgpu`, `?device=auto`); the
 *                            Llama then runs only with `?llama_wasm=1`, else it is unavailable
 *   /?models=/other/folder/  load the custom model's files from another folder of this site
 *   /?bench=20               a benchmark round every 20 requests (default 50; `?bench=0`: none);
 *                            rounds on a schedule set here probe on-device models only
 *   /?model=vllm&fallback=custom&escalate=0.5   see src/core/config.ts (also `?oos_threshold=`)
 *
 * and, from the build's env, what an out-of-scope answer says (src/ui/out-of-scope.ts):
 *
 *   VITE_OOS_MESSAGE="I can only help with banking questions."   the words
 *   VITE_HANDOFF_TEXT="Talk to a person"                          the link to a person...
 *   VITE_HANDOFF_URL=#contact                                     ...and where it goes: http(s),
 *                                                                 mailto:, tel: or #section
 *
 * and how benchmark rounds treat remote models (src/bench/scheduler.ts):
 *
 *   VITE_BENCH_REMOTE_INTERVAL_MIN=30    automatic and manual rounds probe one at most this often
 *   VITE_BENCH_REMOTE_PER_MINUTE=60      at most this many probes a minute to one remote model
 *
 * `<base>` is Vite's `base` (`import.meta.env.BASE_URL`, `BASE_PATH=/sub/ npm run build`). The
 * onnxruntime-web runtime always comes from `<base>ort/` on this origin, never from a CDN, for both
 * on-device models (the llama-qlora model, `<base>models/llama-qlora/`, runs on transformers.js,
 * which uses the same onnxruntime-web: vite.config.ts).
 */
import { resolveConfig, type ConfigOverrides, type EnvSource, type RuntimeConfig } from '../core/config';
import { InvalidInputError } from '../core/errors';
import { DEFAULT_EVERY } from '../bench/scheduler';
import { DEFAULT_HANDOFF_TEXT, DEFAULT_OOS_MESSAGE, handoffUrl, type Handoff } from './out-of-scope';

export type DeviceChoice = 'auto' | 'webgpu' | 'wasm';

export interface SiteConfig {
  /** Absolute URL of the custom model's folder, ending in `/`. */
  modelBaseUrl: string;
  /** Absolute URL of the onnxruntime-web runtime files, ending in `/`. */
  ortBaseUrl: string;
  /** Absolute URL of the llama-qlora model's folder, ending in `/`. */
  llamaBaseUrl: string;
  /** `wasm` keeps the model off WebGPU; `auto` and `webgpu` use WebGPU where the browser has it. */
  device: DeviceChoice;
  /** A benchmark round every this many user requests; 0 = no automatic rounds. */
  benchEvery: number;
  /** Whether `?bench=` set that schedule: its rounds then leave remote models alone. */
  benchFromUrl: boolean;
  /** Limits on benchmarking remote models, from the build's env. */
  benchRemote: { minIntervalMs: number; maxProbesPerMinute: number };
  /** What an out-of-scope answer says, and its link to a person. */
  handoff: Handoff;
}

const DEVICE_CHOICES: readonly DeviceChoice[] = ['auto', 'webgpu', 'wasm'];

/**
 * Reads the site parameters of `pageUrl` and the site's own build env (`SITE_ENV`); throws
 * `InvalidInputError` for a value it cannot use.
 */
export function readSiteConfig(pageUrl: string, baseUrl: string = import.meta.env.BASE_URL, env: EnvSource = SITE_ENV): SiteConfig {
  const page = new URL(pageUrl);
  const base = new URL(baseUrl, page);
  const params = page.searchParams;

  const device = (params.get('device') ?? 'auto').toLowerCase();
  if (!isDeviceChoice(device)) {
    throw new InvalidInputError(`Unknown device "${device}" in the address: use ${DEVICE_CHOICES.join(', ')}.`);
  }

  let modelBaseUrl = new URL('models/custom/', base).href;
  const models = params.get('models');
  if (models !== null && models.trim() !== '') {
    const url = new URL(models.trim(), page);
    // Model files come only from this site: a link must not make the page download from elsewhere.
    if (url.origin !== page.origin) {
      throw new InvalidInputError(`The models parameter must point into this site (${page.origin}), not ${url.origin}.`);
    }
    if (!url.pathname.endsWith('/')) url.pathname += '/';
    modelBaseUrl = url.href;
  }

  return {
    modelBaseUrl,
    ortBaseUrl: new URL('ort/', base).href,
    llamaBaseUrl: new URL('models/llama-qlora/', base).href,
    device,
    benchEvery: readBenchEvery(params.get('bench')),
    benchFromUrl: params.has('bench'),
    benchRemote: readBenchRemote(env),
    handoff: readHandoff(env, page.href),
  };
}

export const DEFAULT_BENCH_REMOTE_INTERVAL_MIN = 30;
export const DEFAULT_BENCH_REMOTE_PER_MINUTE = 60;

/** The remote benchmark limits of the build's env, each defaulting on its own; never from the URL. */
export function readBenchRemote(env: EnvSource): SiteConfig['benchRemote'] {
  const number = (key: 'VITE_BENCH_REMOTE_INTERVAL_MIN' | 'VITE_BENCH_REMOTE_PER_MINUTE', fallback: number, min: number) => {
    const value = env[key];
    if (typeof value !== 'string' || value.trim() === '') return fallback;
    const parsed = Number(value.trim());
    if (!(parsed >= min) || !Number.isFinite(parsed)) {
      throw new InvalidInputError(`${key} must be a number of at least ${min}, got "${value}".`);
    }
    return parsed;
  };
  return {
    minIntervalMs: number('VITE_BENCH_REMOTE_INTERVAL_MIN', DEFAULT_BENCH_REMOTE_INTERVAL_MIN, 0) * 60_000,
    maxProbesPerMinute: number('VITE_BENCH_REMOTE_PER_MINUTE', DEFAULT_BENCH_REMOTE_PER_MINUTE, 1),
  };
}

/** The out-of-scope words and link from the build's env, each defaulting on its own. */
export function readHandoff(env: EnvSource, pageUrl: string): Handoff {
  const text = (key: keyof typeof SITE_ENV) => {
    const value = env[key];
    return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
  };
  return {
    message: text('VITE_OOS_MESSAGE') ?? DEFAULT_OOS_MESSAGE,
    linkText: text('VITE_HANDOFF_TEXT') ?? DEFAULT_HANDOFF_TEXT,
    href: handoffUrl(text('VITE_HANDOFF_URL'), pageUrl, 'VITE_HANDOFF_URL'),
  };
}

/** `?bench=N`: a whole number >= 0; absent or empty gives the default. */
export function readBenchEvery(value: string | null): number {
  if (value === null || value.trim() === '') return DEFAULT_EVERY;
  const every = Number(value.trim());
  if (!Number.isInteger(every) || every < 0) {
    throw new InvalidInputError(
      `The bench parameter must be a whole number of requests (0 turns automatic benchmarks off), not "${value}".`,
    );
  }
  return every;
}

/**
 * The build's `VITE_*` settings that src/core/config.ts reads, each named on its own: Vite inlines
 * exactly the `import.meta.env.X` a bundle mentions, whereas passing `import.meta.env` whole would
 * inline every `VITE_*` variable of the build, a mistaken `VITE_GEMINI_API_KEY` included.
 */
export const BUILD_ENV: EnvSource = {
  VITE_MODEL: import.meta.env.VITE_MODEL,
  VITE_FALLBACK: import.meta.env.VITE_FALLBACK,
  VITE_ESCALATE_BELOW: import.meta.env.VITE_ESCALATE_BELOW,
  VITE_LLAMA_ALLOW_WASM: import.meta.env.VITE_LLAMA_ALLOW_WASM,
  VITE_OOS_THRESHOLD: import.meta.env.VITE_OOS_THRESHOLD,
  VITE_OOS_ESCALATE: import.meta.env.VITE_OOS_ESCALATE,
  VITE_VLLM_URL: import.meta.env.VITE_VLLM_URL,
  VITE_VLLM_MODEL: import.meta.env.VITE_VLLM_MODEL,
  VITE_VLLM_MODE: import.meta.env.VITE_VLLM_MODE,
  VITE_GEMINI_BASE_URL: import.meta.env.VITE_GEMINI_BASE_URL,
  VITE_GEMINI_MODEL: import.meta.env.VITE_GEMINI_MODEL,
  VITE_REMOTE: import.meta.env.VITE_REMOTE,
};

/** The site's own `VITE_*` settings (not the pipeline's, so not in `CONFIG_ENV_KEYS`), named one by one likewise. */
export const SITE_ENV = {
  VITE_OOS_MESSAGE: import.meta.env.VITE_OOS_MESSAGE as string | undefined,
  VITE_HANDOFF_TEXT: import.meta.env.VITE_HANDOFF_TEXT as string | undefined,
  VITE_HANDOFF_URL: import.meta.env.VITE_HANDOFF_URL as string | undefined,
  VITE_BENCH_REMOTE_INTERVAL_MIN: import.meta.env.VITE_BENCH_REMOTE_INTERVAL_MIN as string | undefined,
  VITE_BENCH_REMOTE_PER_MINUTE: import.meta.env.VITE_BENCH_REMOTE_PER_MINUTE as string | undefined,
} satisfies EnvSource;

/**
 * The runtime config for this page: the build's env, the URL parameters of `pageUrl`, then
 * `overrides` (the "Remote models" panel and the model selector). Throws `InvalidInputError`.
 */
export function readRuntimeConfig(pageUrl: string, overrides?: ConfigOverrides, env: EnvSource = BUILD_ENV): RuntimeConfig {
  return resolveConfig({ env, params: new URL(pageUrl).searchParams, overrides });
}

function isDeviceChoice(value: string): value is DeviceChoice {
  return (DEVICE_CHOICES as readonly string[]).includes(value);
}
