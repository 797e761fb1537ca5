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
    [{ params: new URLSearchParams('model=gpt') }, /Unknown model "gpt": choose one of custom, vllm, gemini/],
    [{ env: { VITE_FALLBACK: 'custom,nope' } }, /Unknown fallback "nope"/],
    [{ params: new URLSearchParams('escalate=1.5') }, /between 0 and 1, got "1.5"/],
    [{ params: new URLSearchParams('escalate=high') }, /between 0 and 1/],
    [{ env: { VITE_VLLM_URL: 'ftp://x' } }, /vLLM URL "ftp:\/\/x" is not an http\(s\) URL/],
    [{ env: { VITE_VLLM_MODE: 'stream' } }, /chat or classify/],
  ])('rejects bad settings with a message naming them (%#)', (sources, message) => {
    expect(() => resolveConfig(sources)).toThrow(InvalidInputError);
    expect(() => resolveConfig(sources)).toThrow(message);
  });
});
