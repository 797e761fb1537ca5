/** The custom engine in Node: onnxruntime-node on the CPU, model files from a folder. */
import * as ort from 'onnxruntime-node';
import { CustomEngine } from './custom-engine';
import { directorySource } from './node-source';

export const DEFAULT_MODEL_DIR = 'public/models/custom';

export function loadNodeEngine(dir = DEFAULT_MODEL_DIR): Promise<CustomEngine> {
  return CustomEngine.load(directorySource(dir), { ort, executionProviders: ['cpu'], device: 'cpu', modelId: 'custom' });
}
