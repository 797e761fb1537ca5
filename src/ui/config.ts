/**
 * Every setting of the site, in one place, with its default.
 *
 *   /                        the custom model from `<base>models/custom/`, WebGPU when available
 *   /?device=wasm            force the WASM backend (also `?device=webgpu`, `?device=auto`)
 *   /?models=/other/folder/  load the model files from another folder of this site
 *
 * `<base>` is Vite's `base` (`import.meta.env.BASE_URL`, `BASE_PATH=/sub/ npm run build`). The
 * onnxruntime-web runtime always comes from `<base>ort/` on this origin: never from a CDN.
 */
import { InvalidInputError } from '../core/errors';

export type DeviceChoice = 'auto' | 'webgpu' | 'wasm';

export interface SiteConfig {
  /** Absolute URL of the model folder, ending in `/`. */
  modelBaseUrl: string;
  /** Absolute URL of the onnxruntime-web runtime files, ending in `/`. */
  ortBaseUrl: string;
  /** `wasm` keeps the model off WebGPU; `auto` and `webgpu` use WebGPU where the browser has it. */
  device: DeviceChoice;
}

const DEVICE_CHOICES: readonly DeviceChoice[] = ['auto', 'webgpu', 'wasm'];

/** Reads the URL parameters of `pageUrl`; throws `InvalidInputError` for a value it cannot use. */
export function readConfig(pageUrl: string, baseUrl: string = import.meta.env.BASE_URL): SiteConfig {
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

  return { modelBaseUrl, ortBaseUrl: new URL('ort/', base).href, device };
}

function isDeviceChoice(value: string): value is DeviceChoice {
  return (DEVICE_CHOICES as readonly string[]).includes(value);
}
