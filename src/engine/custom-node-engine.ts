/** The custom engine in Node: onnxruntime-node on the CPU, model files from a folder. */
import * as ort from 'onnxruntime-node';
import type { LoadOptions } from '../core/adapter';
import { CustomEngine } from './custom-engine';
import { directorySource } from './node-source';

export const DEFAULT_MODEL_DIR = 'public/models/custom';

export interface NodeEngineOptions {
  /** Default true: a folder without manifest.json is refused. False loads such a folder unchecked (development only). */
  requireManifest?: boolean;
}

export function loadNodeEngine(
  dir = DEFAULT_MODEL_DIR,
  options: NodeEngineOptions & Pick<LoadOptions, 'signal' | 'onProgress'> = {},
): Promise<CustomEngine> {
  return CustomEngine.load(directorySource(dir), {
    ort,
    executionProviders: ['cpu'],
    device: 'cpu',
    modelId: 'custom',
    requireManifest: options.requireManifest ?? true,
    signal: options.signal,
    onProgress: options.onProgress,
  });
}
