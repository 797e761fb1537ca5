import { describe, expect, it, vi } from 'vitest';
import { abortedBy, abortReason, raceAbort, throwIfAborted } from '../../src/core/abort';
import {
  AbortedError,
  AllAdaptersFailedError,
  ConfigError,
  fromWireError,
  IntentError,
  InvalidInputError,
  isRetryableStatus,
  ModelFileError,
  ModelFormatError,
  ModelUnavailableError,
  PrivacyGuardError,
  RemoteCallError,
  TimeoutError,
  toWireError,
} from '../../src/core/errors';
import { withTimeout } from '../../src/pipeline/signals';

describe('errors across a worker boundary', () => {
  it('keep their class and fields through structured clone', () => {
    for (const error of [
      new InvalidInputError('empty'),
      new ConfigError('router policy: retries must be a number >= 0, got -1'),
      new ModelFileError({ message: 'missing', file: 'model.onnx' }),
      new ModelFormatError({ message: 'weight w has shape [2], expected [3]', file: 'model.onnx' }),
      new ModelUnavailableError({ message: 'no WebGPU', model: 'llama-qlora' }),
      new RemoteCallError({
        message: 'busy',
        model: 'vllm',
        status: 503,
        retryAfterMs: 2000,
        url: 'http://127.0.0.1:8000/v1/chat/completions',
        responseBody: '{"error":{"message":"busy"}}',
      }),
      new PrivacyGuardError('Masking took longer than 1000 ms, so the message was not sent.'),
      new TimeoutError('vllm did not answer within 10 ms'),
      new AbortedError(),
      new AllAdaptersFailedError({ attempts: [{ model: 'vllm', code: 'remote_call', message: 'busy' }] }),
    ]) {
      const back = fromWireError(structuredClone(toWireError(error)));
      expect(back).toBeInstanceOf(error.constructor);
      expect(back).toMatchObject({ ...error, message: error.message });
    }
  });

  it('keep their cause chain, as far as it can be written down', () => {
    const parse = new SyntaxError('Unexpected end of JSON input');
    const error = new ModelFileError({ message: 'Model file config.json is corrupt', file: 'config.json', cause: parse });
    const back = fromWireError(structuredClone(toWireError(error)));
    expect(back).toBeInstanceOf(ModelFileError);
    expect(back.cause).toBeInstanceOf(Error);
    expect(back.cause).toMatchObject({ name: 'SyntaxError', message: 'Unexpected end of JSON input' });

    const nested = new RemoteCallError({ message: 'outer', cause: new ModelFileError({ message: 'inner', file: 'x', cause: 'a string' }) });
    const wire = toWireError(nested);
    expect(wire.cause).toMatchObject({ code: 'model_file', file: 'x', cause: { code: 'internal', message: 'a string' } });
    expect((fromWireError(wire).cause as Error).cause).toMatchObject({ message: 'a string' });
  });

  it('stop writing causes down after a few levels, so a cycle cannot loop', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    a.cause = b;
    let wire = toWireError(a);
    let depth = 0;
    while (wire.cause) {
      wire = wire.cause;
      depth++;
    }
    expect(depth).toBe(4);
  });

  it('turn unknown errors into plain errors with their message', () => {
    const back = fromWireError(toWireError(new TypeError('boom')));
    expect(back.message).toBe('boom');
    expect(back.name).toBe('TypeError');
  });
});

describe('named options and cause', () => {
  it('keep the original error as the standard cause', () => {
    const original = new TypeError('fetch failed');
    for (const error of [
      new RemoteCallError({ message: 'Could not reach vLLM', retryable: true, cause: original }),
      new ModelFileError({ message: 'cannot read', file: 'model.onnx', cause: original }),
      new ModelUnavailableError({ message: 'gone', model: 'custom', cause: original }),
      new InvalidInputError({ message: 'bad', cause: original }),
      new PrivacyGuardError({ message: 'not masked', cause: original }),
      new TimeoutError({ message: 'late', cause: original }),
      new AbortedError({ cause: original }),
      new AllAdaptersFailedError({ attempts: [], cause: original }),
    ]) {
      expect(error.cause).toBe(original);
      expect(Object.keys(error)).not.toContain('cause');
    }
    expect(new InvalidInputError('no cause')).not.toHaveProperty('cause');
  });

  it('keep the codes the UI, the CLI JSON and the tests read', () => {
    expect(
      [
        new InvalidInputError('x'),
        new ModelUnavailableError({ message: 'x', model: 'm' }),
        new ModelFileError({ message: 'x', file: 'f' }),
        new RemoteCallError({ message: 'x' }),
        new TimeoutError('x'),
        new AbortedError(),
        new AllAdaptersFailedError({ attempts: [] }),
        new PrivacyGuardError('x'),
      ].map((error) => error.code),
    ).toEqual(['invalid_input', 'model_unavailable', 'model_file', 'remote_call', 'timeout', 'aborted', 'all_failed', 'privacy_guard']);
    expect(new AbortedError().message).toBe('The request was cancelled.');
    expect(new AllAdaptersFailedError({ attempts: [{ model: 'vllm', code: 'timeout', message: 'late' }] }).message).toBe(
      'No model could answer: vllm: late',
    );
  });
});

describe('RemoteCallError.retryable', () => {
  it.each([
    [400, false],
    [401, false],
    [403, false],
    [404, false],
    [408, true],
    [409, true],
    [413, false],
    [422, false],
    [429, true],
    [500, true],
    [502, true],
    [503, true],
    [504, true],
    [200, false],
    [307, false],
  ])('is derived from status %i: %s', (status, retryable) => {
    expect(new RemoteCallError({ message: 'x', status }).retryable).toBe(retryable);
    expect(isRetryableStatus(status)).toBe(retryable);
  });

  it('is false without a status unless the caller says why (a network failure is worth another try)', () => {
    expect(new RemoteCallError({ message: 'x' }).retryable).toBe(false);
    expect(new RemoteCallError({ message: 'x', retryable: true }).retryable).toBe(true);
  });

  it('may be overridden where the status alone does not say (an answer too large stays too large)', () => {
    expect(new RemoteCallError({ message: 'x', status: 500, retryable: false }).retryable).toBe(false);
  });

  it('a timeout is retryable, an abort is not', () => {
    expect(new TimeoutError('x').retryable).toBe(true);
    expect(new AbortedError().retryable).toBe(false);
  });
});

describe('isInstance', () => {
  it('recognises each class and its base, and nothing else', () => {
    const remote = new RemoteCallError({ message: 'x', status: 503 });
    expect(RemoteCallError.isInstance(remote)).toBe(true);
    expect(IntentError.isInstance(remote)).toBe(true);
    expect(ModelFileError.isInstance(remote)).toBe(false);
    expect(IntentError.isInstance(new Error('x'))).toBe(false);
    expect(IntentError.isInstance({ code: 'remote_call' })).toBe(false);
    expect(IntentError.isInstance(null)).toBe(false);
    expect(IntentError.isInstance('remote_call')).toBe(false);
  });

  it('recognises an error made by another copy of the module, where instanceof fails', async () => {
    vi.resetModules();
    const other = await import('../../src/core/errors');
    const foreign = new other.RemoteCallError({ message: 'x', status: 429 });
    expect(foreign).not.toBeInstanceOf(RemoteCallError);
    expect(RemoteCallError.isInstance(foreign)).toBe(true);
    expect(IntentError.isInstance(foreign)).toBe(true);
    expect(toWireError(foreign)).toMatchObject({ code: 'remote_call', status: 429, retryable: true });
  });
});

describe('abortReason: one mapping of aborted signals', () => {
  it('maps a timed-out signal (AbortSignal.timeout) to TimeoutError, keeping the DOMException as cause', async () => {
    const signal = AbortSignal.timeout(1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const error = abortReason(signal);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.retryable).toBe(true);
    expect(error.cause).toMatchObject({ name: 'TimeoutError' });
  });

  it('maps a user abort to AbortedError', () => {
    const controller = new AbortController();
    controller.abort();
    const error = abortReason(controller.signal);
    expect(error).toBeInstanceOf(AbortedError);
    expect(error.message).toBe('The request was cancelled.');
    expect(error.cause).toMatchObject({ name: 'AbortError' });
  });

  it('passes on a reason that is already one of ours', () => {
    const disposed = new ModelUnavailableError({ message: 'The vLLM adapter was disposed.', model: 'vllm' });
    expect(abortReason(AbortSignal.abort(disposed))).toBe(disposed);
  });

  it('is what throwIfAborted, abortedBy and raceAbort throw', async () => {
    expect(() => throwIfAborted(AbortSignal.abort())).toThrow(AbortedError);
    expect(() => throwIfAborted(undefined)).not.toThrow();
    const timedOut = AbortSignal.timeout(1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(() => throwIfAborted(timedOut)).toThrow(TimeoutError);
    // The first aborted signal decides: the caller's before the adapter's own.
    const own = AbortSignal.abort(new ModelUnavailableError({ message: 'disposed', model: 'vllm' }));
    expect(abortedBy(timedOut, own)).toBeInstanceOf(TimeoutError);
    expect(abortedBy(undefined, own)).toBeInstanceOf(ModelUnavailableError);
    expect(abortedBy(undefined, new AbortController().signal)).toBeUndefined();
    await expect(raceAbort(new Promise(() => undefined), timedOut)).rejects.toBeInstanceOf(TimeoutError);
  });

  it('raceAbort passes a rejection through unchanged', async () => {
    const failure = new ConfigError('x');
    await expect(raceAbort(Promise.reject(failure), new AbortController().signal)).rejects.toBe(failure);
  });

  it('withTimeout maps the caller’s timed-out signal to TimeoutError and its abort to AbortedError', async () => {
    const never = () => new Promise<never>(() => undefined);
    await expect(withTimeout(AbortSignal.timeout(5), 10_000, 'late', never)).rejects.toBeInstanceOf(TimeoutError);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 5);
    await expect(withTimeout(controller.signal, 10_000, 'late', never)).rejects.toBeInstanceOf(AbortedError);
    await expect(withTimeout(undefined, 5, 'did not answer within 5 ms', never)).rejects.toMatchObject({
      code: 'timeout',
      message: 'did not answer within 5 ms',
    });
  });
});
