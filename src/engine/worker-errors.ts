/**
 * Typed errors across a comlink boundary. Structured clone turns every thrown error into a plain
 * `Error`, so a `ModelFileError` thrown in the worker would reach the page without its class or
 * its `file`. Both sides call `installTypedErrors()`: the side that throws sends `toWireError(e)`,
 * the side that receives rethrows `fromWireError(wire)`, an instance of the original class with its
 * fields and its `cause` chain (each cause as plain data, a few levels deep).
 */
import { transferHandlers, type TransferHandler } from 'comlink';
import { ConfigError, fromWireError, toWireError, type WireError } from '../core/errors';

let installed = false;

export function installTypedErrors(): void {
  if (installed) return;
  const builtin = transferHandlers.get('throw');
  if (!builtin) throw new ConfigError('comlink has no "throw" transfer handler to replace: this comlink version is not supported.');
  const handler: TransferHandler<{ value: unknown }, WireError> = {
    // Comlink marks a thrown value with a private symbol; its own handler knows how to spot it.
    canHandle: (value): value is { value: unknown } => builtin.canHandle(value),
    serialize: (thrown) => [toWireError(thrown.value), []],
    deserialize: (wire) => {
      throw fromWireError(wire);
    },
  };
  transferHandlers.set('throw', handler as TransferHandler<unknown, unknown>);
  installed = true;
}
