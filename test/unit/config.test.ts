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

  it('refuses a URL that carries credentials, from env, code or the widget alike, without repeating the secret', () => {
    const cases: Parameters<typeof resolveConfig>[0][] = [
      { env: { VITE_VLLM_URL: 'https://svc:S3CRET-VALUE@vllm.bank.test' } },
      { env: { VITE_GEMINI_BASE_URL: 'https://proxy.bank.test/v1?key=S3CRET-VALUE' } },
      { overrides: { vllm: { url: 'https://vllm.bank.test/?api_key=S3CRET-VALUE' } } },
      { overrides: { gemini: { baseUrl: 'https://proxy.bank.test/#access_token=S3CRET-VALUE' } } },
    ];
    for (const sources of cases) {
      const error = (() => {
        try {
          resolveConfig(sources);
        } catch (e) {
          return e as Error;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(InvalidInputError);
      expect(error!.message).toMatch(
        /carries credentials \((a user name or password before the host|the (query|fragment) parameter "\w+")\)/,
      );
      expect(error!.message).not.toContain('S3CRET');
    }
    // Not a URL at all, and maybe a secret: not quoted either.
    expect(() => resolveConfig({ env: { VITE_VLLM_URL: 'svc:S3CRET-VALUE@vllm.bank.test' } })).toThrow(
      /^The vLLM URL is not an http\(s\) URL\.$/,
    );
    // An ordinary query parameter is not a credential.
    expect(resolveConfig({ env: { VITE_VLLM_URL: 'https://vllm.bank.test/?region=eu' } }).vllm.url).toBe(
      'https://vllm.bank.test/?region=eu',
    );
  });

  describe('a URL parameter never sends text to a remote model the configuration does not allow', () => {
    const vllmConfigured = { VITE_VLLM_URL: 'https://vllm.bank.test', VITE_VLLM_MODEL: 'intent' };
    const params = (query: string) => new URLSearchParams(query);

    it('drops ?fallback= and ?model= naming a configured remote model that is not allowed, and says so', () => {
      const config = resolveConfig({ env: vllmConfigured, params: params('escalate=1&fallback=vllm') });
      expect(config.fallback).toEqual([]);
      expect(config.model).toBe('custom');
      expect(config.escalateBelow).toBe(1); // harmless now: no remote model in the chain
      expect(config.remote).toEqual({ allowed: [], refused: [{ param: 'fallback', id: 'vllm' }], fromUrl: ['escalate'] });

      const switched = resolveConfig({ env: vllmConfigured, params: params('model=vllm&fallback=vllm,custom&oos_escalate=1') });
      expect(switched).toMatchObject({ model: 'custom', fallback: ['custom'], outOfScope: { escalate: true } });
      expect(switched.remote.refused).toEqual([
        { param: 'model', id: 'vllm' },
        { param: 'fallback', id: 'vllm' },
      ]);
      expect(switched.remote.fromUrl).toEqual(['fallback', 'oos_escalate']);
    });

    it("keeps the build's own chain when the URL's whole fallback list was refused", () => {
      const env = { ...vllmConfigured, VITE_FALLBACK: 'custom' };
      expect(resolveConfig({ env, params: params('fallback=vllm') }).fallback).toEqual(['custom']);
    });

    it('honours them when the build allows the model: VITE_REMOTE, VITE_MODEL or VITE_FALLBACK', () => {
      for (const allow of [{ VITE_REMOTE: 'vllm' }, { VITE_REMOTE: 'gemini, vllm' }, { VITE_FALLBACK: 'vllm' }, { VITE_MODEL: 'vllm' }]) {
        const config = resolveConfig({ env: { ...vllmConfigured, ...allow }, params: params('escalate=1&fallback=vllm') });
        expect(config.fallback).toEqual(['vllm']);
        expect(config.remote.allowed).toContain('vllm');
        expect(config.remote.refused).toEqual([]);
        expect(config.remote.fromUrl).toEqual(['fallback', 'escalate']);
      }
    });

    it('honours them when code or the user allowed the model (overrides), as the CLI, the widget and the panel do', () => {
      expect(resolveConfig({ env: vllmConfigured, params: params('model=vllm'), overrides: { allowRemote: ['vllm'] } }).model).toBe('vllm');
      const cli = resolveConfig({ overrides: { model: 'custom', fallback: ['vllm'], vllm: { url: 'http://127.0.0.1:8000', model: 'x' } } });
      expect(cli.remote.allowed).toEqual(['vllm']);
    });

    it('keeps a remote model that has no server: it cannot send anything, and says why', () => {
      const config = resolveConfig({ params: params('model=gemini&fallback=vllm') });
      expect(config).toMatchObject({ model: 'gemini', fallback: ['vllm'] });
      expect(config.remote.refused).toEqual([]);
      expect(config.remote.fromUrl).toEqual(['model', 'fallback']);
    });

    it('validates VITE_REMOTE', () => {
      expect(() => resolveConfig({ env: { VITE_REMOTE: 'vllm,custom' } })).toThrow(/VITE_REMOTE lists .*vllm, gemini.*got "custom"/);
      expect(resolveConfig({ env: { VITE_REMOTE: ' ' } }).remote.allowed).toEqual([]);
    });
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
