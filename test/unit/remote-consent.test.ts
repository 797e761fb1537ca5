/**
 * What the site says about where a message goes (src/ui/remote-consent.ts), from the runtime config
 * the address and the build give; and the gate in front of a remote model that is not allowed.
 */
import { describe, expect, it } from 'vitest';
import type { IntentAdapter } from '../../src/core/adapter';
import { remoteAllowed, resolveConfig, type ConfigOverrides, type EnvSource, type RuntimeConfig } from '../../src/core/config';
import { ModelUnavailableError } from '../../src/core/errors';
import type { Prediction } from '../../src/core/prediction';
import { ConsentGate } from '../../src/runtime/consent-gate';
import { describeDestinations, refusedNotice } from '../../src/ui/remote-consent';

const VLLM = { VITE_VLLM_URL: 'https://vllm.bank.test', VITE_VLLM_MODEL: 'intent' };

function config(env: EnvSource, query = '', overrides?: ConfigOverrides): RuntimeConfig {
  return resolveConfig({ env, params: new URLSearchParams(query), overrides });
}

/** What the page says with `config` and nothing chosen by the user. */
function says(c: RuntimeConfig, chosen: string[] = []) {
  const allowed = (id: string) => remoteAllowed(c, id) || chosen.includes(id);
  return { ...describeDestinations(c, c.model, allowed), notice: refusedNotice(c, allowed) };
}

describe('where messages go, as the page says it', () => {
  it('?escalate=1&fallback=vllm on a build that only configures vLLM: messages stay, and the ignored request is named', () => {
    const c = config(VLLM, 'escalate=1&fallback=vllm');
    expect(says(c)).toEqual({
      text: 'Messages stay in this page.',
      remote: false,
      notice:
        'This page\'s address asks to send messages to vllm (fallback=vllm), which this page is not set up to do: ignored. To use it, choose it in the Model list or under "Remote models".',
    });
  });

  it('the same address on a build that allows vLLM: every way a message may leave, and that the address set it', () => {
    const c = config({ ...VLLM, VITE_REMOTE: 'vllm' }, 'escalate=1&fallback=vllm');
    expect(says(c)).toEqual({
      text:
        'Messages stay in this page unless the on-device model fails or its answer is less than certain (so nearly always): ' +
        "then they go to https://vllm.bank.test (vllm); personal data is masked first. Set by this page's address (fallback, escalate).",
      remote: true,
      notice: undefined,
    });
  });

  it('names the fallback, the cascade threshold and out-of-scope escalation when the build sets them', () => {
    const c = config({ ...VLLM, VITE_FALLBACK: 'vllm', VITE_ESCALATE_BELOW: '0.5', VITE_OOS_ESCALATE: 'true' });
    expect(says(c).text).toBe(
      'Messages stay in this page unless the on-device model fails, its confidence is below 50% or it finds the message is not about banking: ' +
        'then they go to https://vllm.bank.test (vllm); personal data is masked first.',
    );
    // A fallback alone: only when the on-device model fails.
    expect(says(config({ ...VLLM, VITE_FALLBACK: 'vllm' })).text).toMatch(
      /^Messages stay in this page unless the on-device model fails: then/,
    );
  });

  it('a remote model selected: its server, then the others it falls back to', () => {
    const c = config({ ...VLLM, VITE_MODEL: 'vllm', VITE_FALLBACK: 'gemini, custom' }, '', { gemini: { apiKey: 'k' } });
    expect(says(c).text).toBe(
      "Messages go to https://vllm.bank.test (vllm); personal data is masked first. If it fails, they go to Google's Gemini API at generativelanguage.googleapis.com (gemini).",
    );
  });

  it('leaves out remote models without a server, and those not allowed until the user chooses them', () => {
    expect(says(config({}, 'model=gemini&fallback=vllm'))).toMatchObject({ text: 'Messages stay in this page.', remote: false });
    const c = config(VLLM, 'model=vllm');
    expect(c.model).toBe('custom');
    expect(says(c).notice).toMatch(/asks to send messages to vllm \(model=vllm\)/);
    // Chosen in the Model list: allowed, and the notice about the address goes.
    const chosen = describeDestinations(c, 'vllm', (id) => id === 'vllm');
    expect(chosen.text).toBe('Messages go to https://vllm.bank.test (vllm); personal data is masked first.');
    expect(says(c, ['vllm']).notice).toBeUndefined();
  });
});

describe('ConsentGate', () => {
  const answer = { intent: 'card_arrival', model: 'vllm' } as Prediction;

  it('neither makes, loads nor calls the adapter until allowed, and says why', async () => {
    let allowed = false;
    let made = 0;
    const calls: string[] = [];
    const inner: IntentAdapter = {
      id: 'vllm',
      load: () => (calls.push('load'), Promise.resolve()),
      classify: (text) => (calls.push(text), Promise.resolve(answer)),
      health: () => Promise.resolve({ state: 'ready', device: 'remote' }),
      dispose: () => Promise.resolve(),
    };
    const gate = new ConsentGate(
      'vllm',
      () => (made++, inner),
      () => allowed,
      'Not in use until chosen.',
    );

    expect(await gate.health()).toEqual({ state: 'unavailable', reason: 'Not in use until chosen.' });
    await expect(gate.load()).rejects.toBeInstanceOf(ModelUnavailableError);
    await expect(gate.classify('my card 4111 1111 1111 1111')).rejects.toThrow('Not in use until chosen.');
    expect(made).toBe(0);
    expect(calls).toEqual([]);

    allowed = true;
    expect(await gate.health()).toEqual({ state: 'idle' });
    await gate.load();
    expect(await gate.classify('hello')).toBe(answer);
    expect(await gate.health()).toEqual({ state: 'ready', device: 'remote' });
    expect(made).toBe(1);
    expect(calls).toEqual(['load', 'hello']);
  });
});
