/**
 * Merging a PEFT LoRA adapter into a Llama checkpoint (src/convert/llama/merge.ts) over small
 * synthetic checkpoints this test writes itself: F32, BF16 and F16 bases, sharded and not, tied and
 * untied embeddings; the merged weights against a float64 computation; each bad adapter refused with
 * an error naming the tensor; the safetensors reader reading only the tensor asked for; and
 * `npm run merge-qlora` end to end.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHfConfig, type LlamaConfig } from '../../src/models/llama/config';
import { nf4RoundTrip } from '../../src/training/llama/nf4';
import { llamaQ4Weights } from '../../src/convert/llama/onnx-export';
import { llamaForward, type LlamaWeights } from '../../src/models/llama/reference';
import { LLAMA_PROJECTIONS } from '../../src/models/llama/lora';
import { LoraMergeError, mergeLora, openLoraMerge } from '../../src/convert/llama/merge';
import { writeZeroAdapter } from '../../src/training/llama/checkpoint';
import { bf16ToF32, f16ToF32, f32ToBf16 } from '../../src/convert/llama/half';
import { encodeHeader, SafetensorsCheckpoint, SafetensorsFile, SafetensorsWriter } from '../../src/convert/llama/safetensors';

// A two-layer Llama in miniature: hidden 8, 2 KV heads of 2 (k/v out 4), MLP 12, vocabulary 10.
const HIDDEN = 8;
const KV = 4;
const MLP = 12;
const VOCAB = 10;
const LAYERS = 2;
const R = 4;
const ALPHA = 8;

/** The same miniature as a config: 4 query heads and 2 KV heads of size 2. */
const LLAMA_CONFIG: LlamaConfig = {
  vocab_size: VOCAB,
  hidden_size: HIDDEN,
  intermediate_size: MLP,
  num_hidden_layers: LAYERS,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 2,
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  max_position_embeddings: 32,
  tie_word_embeddings: true,
  bos_token_id: 1,
  eos_token_id: 2,
  pad_token_id: 0,
};

type Dtype = 'F32' | 'F16' | 'BF16';
interface Tensor {
  name: string;
  shape: number[];
  /** Exact values (multiples of 1/64 below 2 in size, so F16 and BF16 hold them exactly). */
  values: Float64Array;
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function randomTensor(name: string, shape: number[], random: () => number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return { name, shape, values: Float64Array.from({ length: n }, () => (Math.floor(random() * 255) - 127) / 64) };
}

function llamaTensors(tied: boolean, seed = 1): Tensor[] {
  const random = rng(seed);
  const t = (name: string, shape: number[]) => randomTensor(name, shape, random);
  const tensors = [t('model.embed_tokens.weight', [VOCAB, HIDDEN])];
  for (let l = 0; l < LAYERS; l++) {
    const p = `model.layers.${l}`;
    tensors.push(
      t(`${p}.input_layernorm.weight`, [HIDDEN]),
      t(`${p}.self_attn.q_proj.weight`, [HIDDEN, HIDDEN]),
      t(`${p}.self_attn.k_proj.weight`, [KV, HIDDEN]),
      t(`${p}.self_attn.v_proj.weight`, [KV, HIDDEN]),
      t(`${p}.self_attn.o_proj.weight`, [HIDDEN, HIDDEN]),
      t(`${p}.post_attention_layernorm.weight`, [HIDDEN]),
      t(`${p}.mlp.gate_proj.weight`, [MLP, HIDDEN]),
      t(`${p}.mlp.up_proj.weight`, [MLP, HIDDEN]),
      t(`${p}.mlp.down_proj.weight`, [HIDDEN, MLP]),
    );
  }
  tensors.push(t('model.norm.weight', [HIDDEN]));
  if (!tied) tensors.push(t('lm_head.weight', [VOCAB, HIDDEN]));
  return tensors;
}

/** float32 → IEEE binary16 bits, for values that binary16 holds exactly (normal numbers here). */
function f16Bits(x: number): number {
  if (x === 0) return Object.is(x, -0) ? 0x8000 : 0;
  const sign = x < 0 ? 0x8000 : 0;
  const e = Math.floor(Math.log2(Math.abs(x)));
  const mantissa = (Math.abs(x) / 2 ** e - 1) * 1024;
  if (!Number.isInteger(mantissa) || e < -14 || e > 15) throw new Error(`${x} is not exact in f16`);
  return sign | ((e + 15) << 10) | mantissa;
}

function encode(values: Float64Array, dtype: Dtype): Uint8Array {
  if (dtype === 'F32') return new Uint8Array(Float32Array.from(values).buffer);
  const halves = Uint16Array.from(values, (v) => (dtype === 'F16' ? f16Bits(v) : f32ToBf16(v)));
  return new Uint8Array(halves.buffer);
}

/** A safetensors file from a hand-built header (any dtype), data in the given order. */
async function writeRaw(path: string, tensors: { name: string; shape: number[]; dtype: string; bytes: Uint8Array }[]): Promise<void> {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.length] };
    offset += t.bytes.length;
  }
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  await writeFile(path, Buffer.concat([length, json, ...tensors.map((t) => t.bytes)]));
}

async function writeBase(dir: string, tensors: Tensor[], options: { dtype: Dtype; tied: boolean; shards?: number }): Promise<void> {
  await mkdir(dir, { recursive: true });
  const config = { ...toHfConfig(LLAMA_CONFIG), tie_word_embeddings: options.tied };
  await writeFile(join(dir, 'config.json'), JSON.stringify(config));
  const shards = options.shards ?? 1;
  const perShard = Math.ceil(tensors.length / shards);
  const weightMap: Record<string, string> = {};
  for (let s = 0; s < shards; s++) {
    const file = shards === 1 ? 'model.safetensors' : `model-0000${s + 1}-of-0000${shards}.safetensors`;
    const part = tensors.slice(s * perShard, (s + 1) * perShard);
    for (const t of part) weightMap[t.name] = file;
    if (options.dtype === 'F32') {
      const writer = await SafetensorsWriter.create(join(dir, file), part);
      for (const t of part) await writer.write(t.name, Float32Array.from(t.values));
      await writer.close();
    } else {
      await writeRaw(
        join(dir, file),
        part.map((t) => ({ name: t.name, shape: t.shape, dtype: options.dtype, bytes: encode(t.values, options.dtype) })),
      );
    }
  }
  if (shards > 1) await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
}

interface AdapterOptions {
  targets?: unknown;
  rslora?: boolean;
  /** Tensors to write instead of the generated ones (after `edit`). */
  edit?: (tensors: Tensor[]) => Tensor[];
}

/** A PEFT adapter on q_proj, v_proj and down_proj of both layers; returns its tensors under PEFT names. */
async function writeAdapter(dir: string, options: AdapterOptions = {}): Promise<Tensor[]> {
  await mkdir(dir, { recursive: true });
  const random = rng(99);
  let tensors: Tensor[] = [];
  for (let l = 0; l < LAYERS; l++) {
    for (const [module, out, inDim] of [
      ['self_attn.q_proj', HIDDEN, HIDDEN],
      ['self_attn.v_proj', KV, HIDDEN],
      ['mlp.down_proj', HIDDEN, MLP],
    ] as const) {
      const p = `base_model.model.model.layers.${l}.${module}`;
      tensors.push(randomTensor(`${p}.lora_A.weight`, [R, inDim], random), randomTensor(`${p}.lora_B.weight`, [out, R], random));
    }
  }
  tensors = options.edit ? options.edit(tensors) : tensors;
  const config = {
    peft_type: 'LORA',
    r: R,
    lora_alpha: ALPHA,
    use_rslora: options.rslora ?? false,
    fan_in_fan_out: false,
    target_modules: options.targets ?? ['q_proj', 'v_proj', 'down_proj'],
  };
  await writeFile(join(dir, 'adapter_config.json'), JSON.stringify(config));
  const writer = await SafetensorsWriter.create(join(dir, 'adapter_model.safetensors'), tensors);
  for (const t of tensors) await writer.write(t.name, Float32Array.from(t.values));
  await writer.close();
  return tensors;
}

/** The merge in float64: W + scale * B @ A for every adapted tensor. */
function expectedMerge(base: Tensor[], adapter: Tensor[], scale: number): Map<string, Float64Array> {
  const out = new Map(base.map((t) => [t.name, Float64Array.from(t.values)]));
  for (const a of adapter.filter((t) => t.name.endsWith('.lora_A.weight'))) {
    const b = adapter.find((t) => t.name === a.name.replace('lora_A', 'lora_B'))!;
    const name = a.name.replace('base_model.model.', '').replace('.lora_A.weight', '.weight');
    const w = out.get(name)!;
    const [rows, r] = b.shape as [number, number];
    const cols = a.shape[1]!;
    for (let o = 0; o < rows; o++) {
      for (let i = 0; i < cols; i++) {
        let sum = 0;
        for (let k = 0; k < r; k++) sum += b.values[o * r + k]! * a.values[k * cols + i]!;
        w[o * cols + i]! += scale * sum;
      }
    }
  }
  return out;
}

async function collect(baseDir: string, adapterDir: string): Promise<{ names: string[]; data: Map<string, Float32Array> }> {
  const data = new Map<string, Float32Array>();
  const names: string[] = [];
  await mergeLora({
    baseDir,
    adapterDir,
    onTensor: (name, _shape, values) => {
      names.push(name);
      data.set(name, values);
    },
  });
  return { names, data };
}

function expectClose(got: Map<string, Float32Array>, want: Map<string, Float64Array>): void {
  expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
  for (const [name, expected] of want) {
    const actual = got.get(name)!;
    expect(actual.length, name).toBe(expected.length);
    let worst = 0;
    for (let i = 0; i < expected.length; i++) {
      const e = expected[i]!;
      worst = Math.max(worst, Math.abs(actual[i]! - e) / Math.max(Math.abs(e), 1e-30));
    }
    expect(worst, `${name}: worst relative error`).toBeLessThanOrEqual(1e-6);
  }
}

let root: string;
let caseNo = 0;
const fresh = () => join(root, `case-${++caseNo}`);
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'merge-qlora-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('half-precision conversions', () => {
  it('f16: normal, subnormal, zero, infinity, NaN', () => {
    expect(f16ToF32(0x3c00)).toBe(1);
    expect(f16ToF32(0xc000)).toBe(-2);
    expect(f16ToF32(0x7bff)).toBe(65504);
    expect(f16ToF32(0x3555)).toBe(0.333251953125);
    expect(f16ToF32(0x0001)).toBe(2 ** -24);
    expect(f16ToF32(0x0400)).toBe(2 ** -14);
    expect(Object.is(f16ToF32(0x8000), -0)).toBe(true);
    expect(f16ToF32(0x7c00)).toBe(Infinity);
    expect(f16ToF32(0xfc00)).toBe(-Infinity);
    expect(f16ToF32(0x7e00)).toBeNaN();
  });
  it('bf16: the upper half of a float32; float32 → bf16 rounds to nearest even', () => {
    expect(bf16ToF32(0x3f80)).toBe(1);
    expect(bf16ToF32(0xc0a0)).toBe(-5);
    expect(bf16ToF32(0x7f80)).toBe(Infinity);
    expect(bf16ToF32(0x7fc0)).toBeNaN();
    expect(f32ToBf16(1)).toBe(0x3f80);
    expect(f32ToBf16(1 + 2 ** -8)).toBe(0x3f80); // halfway, rounds to even (down)
    expect(f32ToBf16(1 + 3 * 2 ** -8)).toBe(0x3f82); // halfway, rounds to even (up)
    expect(f32ToBf16(NaN) & 0x7fc0).toBe(0x7fc0);
  });
});

describe('mergeLora', () => {
  const scale = ALPHA / R;

  it('F32 base, untied: W + (alpha/r) B@A matches float64 within 1e-6, in the base order, other tensors unchanged', async () => {
    const [baseDir, adapterDir] = [fresh(), fresh()];
    const base = llamaTensors(false);
    await writeBase(baseDir, base, { dtype: 'F32', tied: false });
    const adapter = await writeAdapter(adapterDir);
    const { names, data } = await collect(baseDir, adapterDir);
    expect(names).toEqual(base.map((t) => t.name));
    expectClose(data, expectedMerge(base, adapter, scale));
    expect(data.get('model.layers.0.self_attn.k_proj.weight')).toEqual(Float32Array.from(base[3]!.values));
    expect(data.get('model.layers.0.self_attn.q_proj.weight')).not.toEqual(Float32Array.from(base[2]!.values));
  });

  it('rsLoRA scales by alpha/sqrt(r)', async () => {
    const [baseDir, adapterDir] = [fresh(), fresh()];
    const base = llamaTensors(false);
    await writeBase(baseDir, base, { dtype: 'F32', tied: false });
    const adapter = await writeAdapter(adapterDir, { rslora: true });
    const merge = await openLoraMerge({ baseDir, adapterDir });
    expect(merge.scale).toBe(ALPHA / Math.sqrt(R));
    await merge.close();
    expectClose((await collect(baseDir, adapterDir)).data, expectedMerge(base, adapter, ALPHA / Math.sqrt(R)));
  });

  it('BF16 base', async () => {
    const [baseDir, adapterDir] = [fresh(), fresh()];
    const base = llamaTensors(false, 2);
    await writeBase(baseDir, base, { dtype: 'BF16', tied: false });
    const adapter = await writeAdapter(adapterDir);
    expectClose((await collect(baseDir, adapterDir)).data, expectedMerge(base, adapter, scale));
  });

  it('F16 base, tied embeddings (no lm_head.weight)', async () => {
    const [baseDir, adapterDir] = [fresh(), fresh()];
    const base = llamaTensors(true, 3);
    await writeBase(baseDir, base, { dtype: 'F16', tied: true });
    const adapter = await writeAdapter(adapterDir);
    const { names, data } = await collect(baseDir, adapterDir);
    expect(names).not.toContain('lm_head.weight');
    expectClose(data, expectedMerge(base, adapter, scale));
  });

  it('sharded base (index JSON, two shards)', async () => {
    const [baseDir, adapterDir] = [fresh(), fresh()];
    const base = llamaTensors(false, 4);
    await writeBase(baseDir, base, { dtype: 'BF16', tied: false, shards: 2 });
    const adapter = await writeAdapter(adapterDir);
    const checkpoint = await SafetensorsCheckpoint.open(baseDir);
    expect(checkpoint.files).toHaveLength(2);
    await checkpoint.close();
    const { names, data } = await collect(baseDir, adapterDir);
    expect(names).toEqual(base.map((t) => t.name));
    expectClose(data, expectedMerge(base, adapter, scale));
  });

  it('a zero adapter (writeZeroAdapter, every projection) merges to the base unchanged', async () => {
    const [baseDir, adapterDir] = [fresh(), fresh()];
    const base = llamaTensors(true);
    await writeBase(baseDir, base, { dtype: 'F32', tied: true });
    await writeZeroAdapter(adapterDir, LLAMA_CONFIG, LLAMA_PROJECTIONS);
    const { names, data } = await collect(baseDir, adapterDir);
    expect(names).toEqual(base.map((t) => t.name));
    for (const t of base) expect(data.get(t.name), t.name).toEqual(Float32Array.from(t.values));
  });

  it('untied config without lm_head.weight is refused', async () => {
    const [baseDir, adapterDir] = [fresh(), fresh()];
    await writeBase(baseDir, llamaTensors(true), { dtype: 'F32', tied: false });
    await writeAdapter(adapterDir);
    await expect(collect(baseDir, adapterDir)).rejects.toThrow(/lm_head\.weight.*tie_word_embeddings/);
  });
});

describe('mergeLora refuses bad adapters, naming the tensor', () => {
  let baseDir: string;
  beforeAll(async () => {
    baseDir = fresh();
    await writeBase(baseDir, llamaTensors(false), { dtype: 'F32', tied: false });
  });
  const refuse = async (options: AdapterOptions, pattern: RegExp, tensor?: string) => {
    const adapterDir = fresh();
    await writeAdapter(adapterDir, options);
    const error = await collect(baseDir, adapterDir).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(LoraMergeError);
    expect((error as Error).message).toMatch(pattern);
    if (tensor) expect((error as LoraMergeError).tensor).toBe(tensor);
  };
  const qA = 'base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight';
  const qB = 'base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight';

  it('missing lora_B', async () => {
    await refuse(
      { edit: (ts) => ts.filter((t) => t.name !== qB) },
      /q_proj\.lora_A\.weight.*lora_B for "model\.layers\.1\.self_attn\.q_proj\.weight" is missing/,
      qA,
    );
  });
  it('wrong rank: lora_A of shape [r+1, in]', async () => {
    const random = rng(5);
    await refuse(
      { edit: (ts) => ts.map((t) => (t.name === qA ? randomTensor(qA, [R + 1, HIDDEN], random) : t)) },
      /q_proj\.lora_A\.weight.*shape \[5, 8\], expected \[r=4, in=8\]/,
      qA,
    );
  });
  it('lora_B whose out does not match the base', async () => {
    const random = rng(6);
    await refuse(
      { edit: (ts) => ts.map((t) => (t.name === qB ? randomTensor(qB, [HIDDEN + 1, R], random) : t)) },
      /expected \[out=8, r=4\]/,
      qB,
    );
  });
  it('unknown target module in adapter_config.json', async () => {
    await refuse({ targets: ['q_proj', 'embed_tokens'] }, /unknown target module "embed_tokens"/);
  });
  it('adapter weights for a module outside target_modules', async () => {
    await refuse({ targets: ['q_proj', 'v_proj'] }, /down_proj\.lora_A\.weight.*not among target_modules/);
  });
  it('an adapter key with no base tensor', async () => {
    const stray = 'base_model.model.model.layers.7.self_attn.q_proj.lora_A.weight';
    const random = rng(7);
    await refuse(
      {
        edit: (ts) => [
          ...ts,
          randomTensor(stray, [R, HIDDEN], random),
          randomTensor(stray.replace('lora_A', 'lora_B'), [HIDDEN, R], random),
        ],
      },
      /layers\.7\.self_attn\.q_proj\.lora_A\.weight.*no base tensor "model\.layers\.7\.self_attn\.q_proj\.weight"/,
      stray,
    );
  });
  it('a key that is not a LoRA weight', async () => {
    const random = rng(8);
    const odd = 'base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector';
    await refuse({ edit: (ts) => [...ts, randomTensor(odd, [HIDDEN], random)] }, /lora_magnitude_vector.*not a LoRA weight/, odd);
  });
});

describe('safetensors reader', () => {
  it('reads only the requested tensor: a 1 GiB sparse neighbour is never read', async () => {
    const path = join(fresh() + '.safetensors');
    const hugeBytes = 256 * 1024 * 1024 * 4; // [256Mi] F32
    const small = Float32Array.from([1.5, -2.25, 3]);
    const header = JSON.stringify({
      huge: { dtype: 'F32', shape: [256 * 1024 * 1024], data_offsets: [0, hugeBytes] },
      small: { dtype: 'F32', shape: [3], data_offsets: [hugeBytes, hugeBytes + 12] },
    });
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(header.length));
    const handle = await open(path, 'w');
    await handle.write(Buffer.concat([length, Buffer.from(header)]), 0, 8 + header.length, 0);
    await handle.write(new Uint8Array(small.buffer), 0, 12, 8 + header.length + hugeBytes); // the gap stays a hole
    await handle.close();

    const file = await SafetensorsFile.open(path);
    const headerRead = file.bytesRead;
    expect(headerRead).toBe(8 + header.length);
    expect(await file.readTensor('small')).toEqual(small);
    expect(file.bytesRead - headerRead).toBe(12);
    await file.close();
  });

  it('writer: header first, padded to 8 bytes; BF16 output rounds; a truncated file is refused', async () => {
    const dir = fresh();
    await mkdir(dir);
    const specs = [
      { name: 'a', shape: [2, 3] },
      { name: 'b', shape: [1] },
    ];
    expect(encodeHeader(specs, 'F32').length % 8).toBe(0);
    const writer = await SafetensorsWriter.create(join(dir, 'x.safetensors'), specs, { dtype: 'BF16' });
    await expect(writer.write('b', new Float32Array(1))).rejects.toThrow(/expected tensor "a" next/);
    await writer.write('a', Float32Array.from([1, 2, 3, 4, 5, 1 + 3 * 2 ** -8]));
    await writer.write('b', Float32Array.from([-0.5]));
    await writer.close();
    const file = await SafetensorsFile.open(join(dir, 'x.safetensors'));
    expect(file.info('a')?.dtype).toBe('BF16');
    expect(await file.readTensor('a')).toEqual(Float32Array.from([1, 2, 3, 4, 5, 1 + 4 * 2 ** -8]));
    expect(await file.readTensor('b')).toEqual(Float32Array.from([-0.5]));
    await file.close();

    const bytes = await readFile(join(dir, 'x.safetensors'));
    await writeFile(join(dir, 'cut.safetensors'), bytes.subarray(0, bytes.length - 1));
    await expect(SafetensorsFile.open(join(dir, 'cut.safetensors'))).rejects.toThrow(/tensor "b" ends at byte .* truncated/);
  });
});

describe('npm run merge-qlora', () => {
  /** Next-token logits of onnxruntime-node on `file` for one sequence, no cache. */
  async function onnxLogits(file: string, ids: number[]): Promise<Float32Array> {
    const session = await ort.InferenceSession.create(file, { logSeverityLevel: 3 });
    const int64 = (row: number[]) => new ort.Tensor('int64', BigInt64Array.from(row.map(BigInt)), [1, row.length]);
    const feeds: Record<string, ort.Tensor> = {
      input_ids: int64(ids),
      attention_mask: int64(ids.map(() => 1)),
      position_ids: int64(ids.map((_, i) => i)),
      num_logits_to_keep: new ort.Tensor('int64', BigInt64Array.of(0n), []),
    };
    for (let i = 0; i < LAYERS; i++)
      for (const kind of ['key', 'value'])
        feeds[`past_key_values.${i}.${kind}`] = new ort.Tensor('float32', new Float32Array(0), [1, 2, 0, 2]);
    const out = await session.run(feeds);
    await session.release();
    return out.logits!.data as Float32Array;
  }

  const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    let m = 0;
    for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
    return m;
  };

  /** The command as a user types it: `npm run merge-qlora -- --base B --adapter A --out O [flags]`. */
  const mergeQlora = (baseDir: string, adapterDir: string, outDir: string, ...flags: string[]) =>
    promisify(execFile)('npx', ['tsx', 'scripts/merge-qlora.ts', '--base', baseDir, '--adapter', adapterDir, '--out', outDir, ...flags]);

  /** Every tensor of OUT/model.safetensors (written with `--safetensors f32`). */
  async function readMerged(outDir: string): Promise<Map<string, Float32Array>> {
    const file = await SafetensorsFile.open(join(outDir, 'model.safetensors'));
    const got = new Map<string, Float32Array>();
    for (const t of file.tensors) got.set(t.name, await file.readTensor(t.name));
    await file.close();
    return got;
  }

  it('writes the transformers.js folder: q4 with MatMulNBits and fp32 ONNX matching the merged float64 model, the merged safetensors, config and classifier.json', async () => {
    const [baseDir, adapterDir, outDir] = [fresh(), fresh(), fresh()];
    const base = llamaTensors(true, 9);
    await writeBase(baseDir, base, { dtype: 'BF16', tied: true, shards: 2 });
    await writeFile(join(baseDir, 'tokenizer.json'), '{"stand-in": true}');
    const adapter = await writeAdapter(adapterDir);
    await writeFile(join(adapterDir, 'classifier.json'), JSON.stringify({ labels: ['a', 'b'], prompt: '{text} ->' }));
    const { stdout } = await mergeQlora(baseDir, adapterDir, outDir, '--safetensors', 'f32');
    expect(stdout).toMatch(/merged 6 projections/);
    expect(stdout).toMatch(/onnx\/model_q4\.onnx/);
    expect(JSON.parse(await readFile(join(outDir, 'config.json'), 'utf8'))).toMatchObject({
      tie_word_embeddings: true,
      num_key_value_heads: 2,
      head_dim: 2,
    });
    expect(await readFile(join(outDir, 'tokenizer.json'), 'utf8')).toBe('{"stand-in": true}');
    expect(JSON.parse(await readFile(join(outDir, 'classifier.json'), 'utf8'))).toMatchObject({ labels: ['a', 'b'] });

    const expected = expectedMerge(base, adapter, ALPHA / R);
    const got = await readMerged(outDir);
    expectClose(got, expected);

    const q4 = onnxProto.onnx.ModelProto.decode(await readFile(join(outDir, 'onnx', 'model_q4.onnx')));
    expect((q4.graph?.node ?? []).filter((n) => n.opType === 'MatMulNBits')).toHaveLength(LAYERS * 7 + 1); // and the tied head, quantised from the embedding

    // The merged model in float64 is the reference: fp32 within 1e-3, q4 against the same weights round-tripped through 4 bits.
    const weights: LlamaWeights = {};
    for (const t of base) weights[t.name] = { shape: t.shape, data: expected.get(t.name)! };
    const ids = [1, 5, 3, 9, 4, 7];
    expect(maxDiff(await onnxLogits(join(outDir, 'onnx', 'model.onnx'), ids), llamaForward(LLAMA_CONFIG, weights, ids))).toBeLessThan(1e-3);
    expect(
      maxDiff(await onnxLogits(join(outDir, 'onnx', 'model_q4.onnx'), ids), llamaForward(LLAMA_CONFIG, llamaQ4Weights(weights), ids)),
    ).toBeLessThan(1e-3);
  });

  it('--base-nf4 merges into the NF4 round trip of every linear layer (what QLoRA trained against); embeddings and norms as they were', async () => {
    const [baseDir, adapterDir, outDir] = [fresh(), fresh(), fresh()];
    const base = llamaTensors(false, 5);
    await writeBase(baseDir, base, { dtype: 'F32', tied: false });
    const adapter = await writeAdapter(adapterDir);
    await mergeQlora(baseDir, adapterDir, outDir, '--safetensors', 'f32', '--base-nf4');
    const nf4Base = base.map((t) =>
      /_proj\.weight$/.test(t.name) ? { ...t, values: Float64Array.from(nf4RoundTrip(Float32Array.from(t.values), t.shape)) } : t,
    );
    const got = await readMerged(outDir);
    expectClose(got, expectedMerge(nf4Base, adapter, ALPHA / R));
    // The round trip really changed the projections (else this test would prove nothing).
    const q = base.find((t) => t.name === 'model.layers.0.self_attn.k_proj.weight')!;
    expect(Array.from(got.get(q.name)!)).not.toEqual(Array.from(Float32Array.from(q.values)));
  });

  it('--fp32 no skips the float32 graph; without --safetensors no merged safetensors; no classifier.json is a warning', async () => {
    const [baseDir, adapterDir, outDir] = [fresh(), fresh(), fresh()];
    await writeBase(baseDir, llamaTensors(false, 3), { dtype: 'F32', tied: false });
    await writeAdapter(adapterDir);
    const { stderr } = await mergeQlora(baseDir, adapterDir, outDir, '--fp32', 'no');
    expect(stderr).toMatch(/no classifier\.json/);
    expect(stderr).toMatch(/no tokenizer\.json/);
    const written = await readdir(outDir, { recursive: true });
    expect(written.sort()).toEqual(['config.json', 'onnx', 'onnx/model_q4.onnx', 'onnx/model_q4f16.onnx']);
  });

  it('a config.json that does not fit the tensors is refused before anything is written', async () => {
    const [baseDir, adapterDir, outDir] = [fresh(), fresh(), fresh()];
    await writeBase(baseDir, llamaTensors(true, 3), { dtype: 'F32', tied: true });
    await writeFile(join(baseDir, 'config.json'), JSON.stringify({ ...toHfConfig(LLAMA_CONFIG), intermediate_size: 16 }));
    await writeAdapter(adapterDir);
    const failure = await mergeQlora(baseDir, adapterDir, outDir).catch((error: { stderr: string; code: number }) => error);
    expect(failure).toMatchObject({ code: 1 });
    expect((failure as { stderr: string }).stderr).toMatch(
      /model\.layers\.0\.mlp\.gate_proj\.weight has shape \[12,8\], its config\.json implies \[16,8\]/,
    );
    expect(await readdir(outDir).catch(() => [])).toEqual([]);
  });
});
