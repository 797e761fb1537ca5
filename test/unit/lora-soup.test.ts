/**
 * The LoRA soup (src/models/llama/lora-soup.ts): merging the stacked adapter must add the average
 * of the adapters' deltas, mean_i (alpha / r) B_i A_i, computed here in float64; with rsLoRA too;
 * adapters that do not match are refused.
 */
import { describe, expect, it } from 'vitest';
import { soupAdapters, type PeftAdapter } from '../../src/models/llama/lora-soup';
import { addLoraDelta, loraScale, parseAdapterConfig } from '../../src/models/llama/merge';
import { mulberry32 } from '../../src/models/custom/random';

const [OUT, IN, R] = [6, 5, 2];
const NAME = 'base_model.model.model.layers.0.self_attn.q_proj';

function adapter(seed: number, rslora = false): PeftAdapter {
  const r = mulberry32(seed);
  const values = (n: number) => Float32Array.from({ length: n }, () => r() * 2 - 1);
  return {
    config: { peft_type: 'LORA', r: R, lora_alpha: 4, target_modules: ['q_proj'], use_rslora: rslora },
    tensors: {
      [`${NAME}.lora_A.weight`]: { shape: [R, IN], data: values(R * IN) },
      [`${NAME}.lora_B.weight`]: { shape: [OUT, R], data: values(OUT * R) },
    },
  };
}

/** W (zeros) plus the adapter's delta, merged the way merge-qlora merges. */
function merged(a: PeftAdapter): Float32Array {
  const config = parseAdapterConfig(a.config, 'test');
  const w = new Float32Array(OUT * IN);
  const A = a.tensors[`${NAME}.lora_A.weight`]!;
  const B = a.tensors[`${NAME}.lora_B.weight`]!;
  addLoraDelta(w, Float32Array.from(A.data), Float32Array.from(B.data), OUT, IN, config.r, loraScale(config));
  return w;
}

describe('soupAdapters', () => {
  it.each([false, true])('merges to the mean of the deltas (rsLoRA %s)', (rslora) => {
    const parts = [adapter(1, rslora), adapter(2, rslora), adapter(3, rslora)];
    const soup = soupAdapters(parts);
    expect(soup.config).toMatchObject({ r: 3 * R });
    expect(soup.tensors[`${NAME}.lora_A.weight`]!.shape).toEqual([3 * R, IN]);
    expect(soup.tensors[`${NAME}.lora_B.weight`]!.shape).toEqual([OUT, 3 * R]);
    const want = parts.map(merged).reduce((acc, d) => acc.map((v, i) => v + d[i]! / parts.length), new Float64Array(OUT * IN));
    const got = merged(soup);
    for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i]!, 6);
  });

  it('refuses adapters with another rank or other target modules', () => {
    const other = adapter(2);
    expect(() => soupAdapters([adapter(1), { ...other, config: { ...other.config, r: 3 } }])).toThrow(
      /r, lora_alpha and use_rslora must match/,
    );
    expect(() => soupAdapters([adapter(1), { ...other, config: { ...other.config, target_modules: ['v_proj'] } }])).toThrow(
      /target_modules differ/,
    );
  });
});
