import type { InferenceSession } from 'onnxruntime-common';

/**
 * Options for every session over our int8 models. The stacked graph dequantises with `Cast -> Mul`
 * (constant-folded at session creation), so it has no `DequantizeLinear`; `disable_quant_qdq` stays
 * for a model folder exported the earlier way, where onnxruntime would fuse `DequantizeLinear ->
 * MatMul` into a kernel that also quantises the activations (logits moved by up to 4e-2 in the
 * parity test, where the unfused graph matches the float reference to 1e-5).
 */
export const SESSION_OPTIONS: InferenceSession.SessionOptions = {
  graphOptimizationLevel: 'all',
  // Warnings such as "some nodes were not assigned to the preferred execution providers" are
  // expected (shape ops run on the CPU) and would only alarm a user reading the console.
  logSeverityLevel: 3,
  extra: { session: { disable_quant_qdq: '1' } },
};
