/**
 * A uniform "model soup" (Wortsman et al. 2022) of LoRA adapters fine-tuned from the same base and
 * the same initialisation: the average of their weight deltas, mean_i (alpha / r) B_i A_i, written
 * as one exact PEFT adapter. Stacking the pairs along the rank (A = [A_1; ...; A_n], B = [B_1 ... B_n])
 * with B divided by n gives B A = mean_i B_i A_i at rank n r; lora_alpha is raised so that the scale
 * stays alpha / r, so merge-qlora merges the soup like any adapter.
 */
import { LoraMergeError, parseAdapterConfig } from './merge';
import type { LlamaTensor } from './reference';

export interface PeftAdapter {
  /** adapter_config.json, parsed. */
  config: Record<string, unknown>;
  /** adapter_model.safetensors: `...lora_A.weight` [r, in] and `...lora_B.weight` [out, r]. */
  tensors: Record<string, LlamaTensor>;
}

export function soupAdapters(adapters: readonly PeftAdapter[]): PeftAdapter {
  if (adapters.length === 0) throw new Error('soupAdapters: no adapters');
  const configs = adapters.map((a, i) => parseAdapterConfig(a.config, `adapter ${i + 1}`));
  const first = configs[0]!;
  const n = adapters.length;
  configs.forEach((c, i) => {
    if (c.r !== first.r || c.loraAlpha !== first.loraAlpha || c.useRslora !== first.useRslora)
      throw new LoraMergeError(
        `adapter ${i + 1}: r, lora_alpha and use_rslora must match the first adapter's to be averaged`,
        `adapter ${i + 1}`,
      );
    if ([...c.targetModules].sort().join() !== [...first.targetModules].sort().join())
      throw new LoraMergeError(`adapter ${i + 1}: target_modules differ from the first adapter's`, `adapter ${i + 1}`);
  });
  const names = Object.keys(adapters[0]!.tensors).sort();
  const tensors: Record<string, LlamaTensor> = {};
  for (const name of names) {
    const parts = adapters.map((a, i) => {
      const t = a.tensors[name];
      if (!t) throw new LoraMergeError(`adapter ${i + 1} has no tensor ${name}`, name);
      return t;
    });
    const [rows, cols] = parts[0]!.shape as [number, number];
    if (name.endsWith('.lora_A.weight')) {
      // [r, in] blocks stacked: [n r, in].
      const data = new Float32Array(n * rows * cols);
      parts.forEach((p, i) => data.set(p.data, i * rows * cols));
      tensors[name] = { shape: [n * rows, cols], data };
    } else if (name.endsWith('.lora_B.weight')) {
      // [out, r] blocks side by side, each divided by n: [out, n r].
      const data = new Float32Array(rows * n * cols);
      parts.forEach((p, i) => {
        for (let o = 0; o < rows; o++) for (let k = 0; k < cols; k++) data[o * n * cols + i * cols + k] = p.data[o * cols + k]! / n;
      });
      tensors[name] = { shape: [rows, n * cols], data };
    } else throw new LoraMergeError(`${name} is not a LoRA weight`, name);
  }
  // Keep each pair's scale: alpha / r becomes (n alpha) / (n r); with rsLoRA, alpha / sqrt(r) needs sqrt(n) alpha.
  const alpha = first.useRslora ? first.loraAlpha * Math.sqrt(n) : first.loraAlpha * n;
  return { config: { ...adapters[0]!.config, r: n * first.r, lora_alpha: alpha }, tensors };
}
