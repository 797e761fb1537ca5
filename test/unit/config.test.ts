import { loadEnv } from 'vite';
import { describe, expect, it } from 'vitest';
import { CONFIG_ENV_KEYS, DEFAULT_CONFIG, resolveConfig } from '../../src/core/config';
import { BUILD_ENV } from '../../src/ui/config';
import { InvalidInputError } from '../../src/core/errors';

describe('runtime config', () => {
  it('defaults to the on-device custom model with no fallback', () => {
    expect(resolveConfig()).toEqual(DEFAULT_CONFIG);
  });

  it('takes env (Vite mode files), then URL parameters, then overrides', () => {
    const env = {
      VITE_MODEL: 'vllm',
      VITE_FALLBACK: 'gemini, custom',
      VITE_VLLM_URL: 'https://vllm.bank.test/',
      VITE_VLLM_MODEL: 'intent-llm',
    };
    expect(resolveConfig({ env })).toMatchObject({
      model: 'vllm',
      fallback: ['gemini', 'custom'],
      vllm: { url: 'https://vllm.bank.test', model: 'intent-llm', mode: 'chat' },
    });
    const params = new URLSearchParams('model=gemini&escalate=0.6');
    expect(resolveConfig({ env, params })).toMatchObject({ model: 'gemini', escalateBelow: 0.6, fallback: ['gemini', 'custom'] });
    expect(resolveConfig({ env, params, overrides: { model: 'custom', fallback: [] } })).toMatchObject({ model: 'custom', fallback: [] });
  });

  it('takes llama-qlora as the model and in the fallback chain, from env, URL or code', () => {
    expect(resolveConfig({ params: new URLSearchParams('model=llama-qlora') })).toMatchObject({ model: 'llama-qlora', fallback: [] });
    expect(resolveConfig({ params: new URLSearchParams('model=vllm&fallback=llama-qlora,custom') })).toMatchObject({
      model: 'vllm',
      fallback: ['llama-qlora', 'custom'],
    });
    expect(resolveConfig({ env: { VITE_MODEL: 'llama-qlora', VITE_FALLBACK: 'custom' } })).toMatchObject({
      model: 'llama-qlora',
      fallback: ['custom'],
    });
    expect(resolveConfig({ overrides: { model: 'llama-qlora' } }).model).toBe('llama-qlora');
  });

  it('keeps the Llama off WebAssembly unless VITE_LLAMA_ALLOW_WASM or ?llama_wasm allows it (the URL winning)', () => {
    expect(resolveConfig().llama).toEqual({ allowWasm: false });
    expect(resolveConfig({ params: new URLSearchParams('llama_wasm=1') }).llama.allowWasm).toBe(true);
    expect(resolveConfig({ params: new URLSearchParams('llama_wasm=') }).llama.allowWasm).toBe(false);
    for (const value of ['true', 'TRUE', 'yes', 'on', '1'])
      expect(resolveConfig({ env: { VITE_LLAMA_ALLOW_WASM: value } }).llama.allowWasm).toBe(true);
    for (const value of ['false', 'no', 'off', '0'])
      expect(resolveConfig({ env: { VITE_LLAMA_ALLOW_WASM: value } }).llama.allowWasm).toBe(false);
    const env = { VITE_LLAMA_ALLOW_WASM: 'true' };
    expect(resolveConfig({ env, params: new URLSearchParams('llama_wasm=0') }).llama.allowWasm).toBe(false);
    expect(resolveConfig({ env, overrides: { llama: { allowWasm: false } } }).llama.allowWasm).toBe(false);
  });

  it('reads the out-of-scope threshold and escalation from env, URL parameters and code, later ones winning', () => {
    expect(resolveConfig().outOfScope).toEqual({ escalate: false }); // no threshold: each model's own
    const env = { VITE_OOS_THRESHOLD: '0.4', VITE_OOS_ESCALATE: 'true' };
    expect(resolveConfig({ env }).outOfScope).toEqual({ threshold: 0.4, escalate: true });
    const params = new URLSearchParams('oos_threshold=0&oos_escalate=off');
    expect(resolveConfig({ env, params }).outOfScope).toEqual({ threshold: 0, escalate: false });
    expect(resolveConfig({ env, params, overrides: { outOfScope: { threshold: 0.25 } } }).outOfScope).toEqual({
      threshold: 0.25,
      escalate: false,
    });
    expect(resolveConfig({ overrides: { outOfScope: { escalate: true } } }).outOfScope).toEqual({ escalate: true });
    expect(resolveConfig({ params: new URLSearchParams('oos_threshold=') }).outOfScope.threshold).toBeUndefined();
  });

  it('vite --mode qlora (.env.qlora) selects llama-qlora with custom as its fallback, WASM off', () => {
    const env = loadEnv('qlora', process.cwd(), 'VITE_');
    expect(resolveConfig({ env })).toMatchObject({ model: 'llama-qlora', fallback: ['custom'], llama: { allowWasm: false } });
  });

  it('the site hands Vite exactly the env variables the config reads, one by one', () => {
    expect(Object.keys(BUILD_ENV).sort()).toEqual([...CONFIG_ENV_KEYS].sort());
  });

  it('never takes a server endpoint or an API key from the URL', () => {
    const params = new URLSearchParams('vllm-url=https://evil.test&gemini-base-url=https://evil.test&key=abc');
    const config = resolveConfig({ params });
    expect(config.vllm.url).toBeUndefined();
    expect(config.gemini.baseUrl).toBeUndefined();
    expect(JSON.stringify(config)).not.toContain('evil');
  });

  it.each([
    [{ params: new URLSearchParams('model=gpt') }, /Unknown model "gpt": choose one of custom, llama-qlora, vllm, gemini/],
    [{ params: new URLSearchParams('model=llama') }, /Unknown model "llama"/],
    [
      { params: new URLSearchParams('llama_wasm=maybe') },
      /llama_wasm \(VITE_LLAMA_ALLOW_WASM\) must be true or false \(1 or 0\), got "maybe"/,
    ],
    [{ env: { VITE_LLAMA_ALLOW_WASM: 'sometimes' } }, /must be true or false/],
    [{ env: { VITE_FALLBACK: 'custom,nope' } }, /Unknown fallback "nope"/],
    [{ params: new URLSearchParams('escalate=1.5') }, /between 0 and 1, got "1.5"/],
    [{ params: new URLSearchParams('escalate=high') }, /between 0 and 1/],
    [{ env: { VITE_VLLM_URL: 'ftp://x' } }, /vLLM URL "ftp:\/\/x" is not an http\(s\) URL/],
    [{ env: { VITE_VLLM_MODE: 'stream' } }, /chat or classify/],
    [
      { params: new URLSearchParams('oos_threshold=1.5') },
      /out-of-scope threshold must be a number between 0 and 1 \(0 turns it off\), got "1.5"/,
    ],
    [{ env: { VITE_OOS_THRESHOLD: 'high' } }, /out-of-scope threshold .* got "high"/],
    [{ overrides: { outOfScope: { threshold: -0.1 } } }, /out-of-scope threshold .* got "-0.1"/],
    [
      { params: new URLSearchParams('oos_escalate=maybe') },
      /oos_escalate \(VITE_OOS_ESCALATE\) must be true or false \(1 or 0\), got "maybe"/,
    ],
  ])('rejects bad settings with a message naming them (%#)', (sources, message) => {
    expect(() => resolveConfig(sources)).toThrow(InvalidInputError);
    expect(() => resolveConfig(sources)).toThrow(message);
  });
});
