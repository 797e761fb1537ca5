/** The worker host hands transformers.js a model folder on the page's origin as a root-relative path (see `localModelPath`). */
import { describe, expect, it } from 'vitest';
import { localModelPath } from '../../src/engine/llama-worker-host';

describe('localModelPath', () => {
  const origin = 'https://bank.example';

  it('turns a folder URL on the worker origin into its path (sub-paths kept)', () => {
    expect(localModelPath('https://bank.example/models/llama-qlora/', origin)).toBe('/models/llama-qlora/');
    expect(localModelPath('https://bank.example/intent/models/llama-qlora/?v=2', origin)).toBe('/intent/models/llama-qlora/');
  });

  it('leaves other origins, paths, directories and a missing origin alone', () => {
    expect(localModelPath('https://cdn.example/models/llama-qlora/', origin)).toBe('https://cdn.example/models/llama-qlora/');
    expect(localModelPath('/models/llama-qlora/', origin)).toBe('/models/llama-qlora/');
    expect(localModelPath('public/models/llama-qlora', origin)).toBe('public/models/llama-qlora');
    expect(localModelPath('https://bank.example/models/llama-qlora/', undefined)).toBe('https://bank.example/models/llama-qlora/');
  });
});
