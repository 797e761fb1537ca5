import { describe, expect, it } from 'vitest';
import { fromWireError, InvalidInputError, ModelFileError, RemoteCallError, toWireError } from '../../src/core/errors';

describe('errors across a worker boundary', () => {
  it('keep their class and fields through structured clone', () => {
    for (const error of [
      new InvalidInputError('empty'),
      new ModelFileError('missing', 'model.onnx'),
      new RemoteCallError('busy', 503, true, 2000),
    ]) {
      const back = fromWireError(structuredClone(toWireError(error)));
      expect(back).toBeInstanceOf(error.constructor);
      expect(back).toMatchObject({ ...error, message: error.message });
    }
  });

  it('turn unknown errors into plain errors with their message', () => {
    const back = fromWireError(toWireError(new TypeError('boom')));
    expect(back.message).toBe('boom');
    expect(back.name).toBe('TypeError');
  });
});
