/**
 * A small builder for ONNX graphs on top of the `onnx-proto` schema: add inputs, initializers and
 * nodes by name, get the serialised model bytes. Enough to write a transformer by hand, which is
 * what our exporters do instead of depending on a Python toolchain.
 */
import onnxProto, { type onnx as Onnx } from 'onnx-proto';
import { ModelFormatError } from '../../core/errors';

// onnx-proto is CommonJS: take the namespace from its default export so Node's ESM loader accepts it.
const { onnx } = onnxProto;

export const DataType = {
  FLOAT: onnx.TensorProto.DataType.FLOAT,
  UINT8: onnx.TensorProto.DataType.UINT8,
  INT8: onnx.TensorProto.DataType.INT8,
  INT32: onnx.TensorProto.DataType.INT32,
  INT64: onnx.TensorProto.DataType.INT64,
  FLOAT16: onnx.TensorProto.DataType.FLOAT16,
} as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

/** Bytes per element of each type. */
export const BYTES: Record<DataTypeCode, number> = {
  [DataType.FLOAT]: 4,
  [DataType.UINT8]: 1,
  [DataType.INT8]: 1,
  [DataType.INT32]: 4,
  [DataType.INT64]: 8,
  [DataType.FLOAT16]: 2,
};

type TensorData = Float32Array | Int8Array | Uint8Array | Int32Array | BigInt64Array;
/** Bytes of a tensor: any typed array (float16 as Uint16Array bits, with its type given). */
export type TensorBytes = ArrayBufferView;
type Attribute = number | number[] | string | { float: number };
export type Dim = number | string;

function dataTypeOf(data: TensorBytes): DataTypeCode {
  if (data instanceof Float32Array) return DataType.FLOAT;
  if (data instanceof Int8Array) return DataType.INT8;
  if (data instanceof Uint8Array) return DataType.UINT8;
  if (data instanceof Int32Array) return DataType.INT32;
  if (data instanceof BigInt64Array) return DataType.INT64;
  throw new ModelFormatError(`a ${data.constructor.name} tensor needs its data type given`);
}

export const elementCount = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);
export const asBytes = (data: TensorBytes) => new Uint8Array(data.buffer, data.byteOffset, data.byteLength);

export class GraphBuilder {
  protected readonly nodes: Onnx.INodeProto[] = [];
  protected readonly initializers: Onnx.ITensorProto[] = [];
  protected readonly inputs: Onnx.IValueInfoProto[] = [];
  protected readonly outputs: Onnx.IValueInfoProto[] = [];
  private readonly usedNames = new Set<string>();
  private counter = 0;

  constructor(protected readonly name: string) {}

  input(name: string, type: DataTypeCode, dims: Dim[]): string {
    this.inputs.push(valueInfo(name, type, dims));
    return this.claim(name);
  }

  output(name: string, type: DataTypeCode, dims: Dim[]): void {
    this.outputs.push(valueInfo(name, type, dims));
  }

  /** A constant tensor stored in the file; `type` only where the array does not say (float16). Returns its name. */
  initializer(name: string, data: TensorBytes, dims: number[], type: DataTypeCode = dataTypeOf(data)): string {
    if (data.byteLength !== elementCount(dims) * BYTES[type])
      throw new ModelFormatError(`initializer ${name}: ${data.byteLength} bytes for dims [${dims}]`);
    this.initializers.push({ name: this.claim(name), dims, dataType: type, rawData: asBytes(data) });
    return name;
  }

  /** A scalar or 1-D float constant (float32, or float16 bits from `toHalf`), named automatically. */
  constFloat(values: number | number[], half?: { toHalf: (value: number) => number }): string {
    const list = typeof values === 'number' ? [values] : values;
    const dims = typeof values === 'number' ? [] : [list.length];
    const name = this.fresh('const');
    if (half) return this.initializer(name, Uint16Array.from(list, half.toHalf), dims, DataType.FLOAT16);
    return this.initializer(name, Float32Array.from(list), dims);
  }

  constInt64(values: number[]): string {
    return this.initializer(this.fresh('const'), BigInt64Array.from(values.map(BigInt)), [values.length]);
  }

  /**
   * Adds a node and returns the name of its (first) output. Give `outputs` to name them, else
   * they are named after the op.
   */
  node(
    opType: string,
    inputs: string[],
    attributes: Record<string, Attribute> = {},
    options: { outputs?: string[]; domain?: string } = {},
  ): string {
    const outputs = options.outputs ?? [this.fresh(opType)];
    // An empty name is an optional output left out.
    outputs.forEach((o) => o !== '' && this.claim(o));
    this.nodes.push({
      opType,
      domain: options.domain ?? '',
      name: this.fresh(`${opType}_node`),
      input: inputs,
      output: outputs,
      attribute: Object.entries(attributes).map(([key, value]) => attribute(key, value)),
    });
    return outputs[0]!;
  }

  /** Adds a node with `count` outputs (a Split), named after the op; returns their names. */
  nodeOutputs(
    opType: string,
    inputs: string[],
    count: number,
    attributes: Record<string, Attribute> = {},
    options: { domain?: string } = {},
  ): string[] {
    const outputs = Array.from({ length: count }, () => this.fresh(opType));
    this.node(opType, inputs, attributes, { ...options, outputs });
    return outputs;
  }

  /** Serialised `ModelProto` (IR 8) with the given opset versions per domain. */
  toBytes(opsets: Record<string, number>, metadata: Record<string, string> = {}): Uint8Array {
    return onnx.ModelProto.encode(this.modelProto(opsets, metadata)).finish();
  }

  /** The model: this graph with `extra` initializers after its own (weights held elsewhere). */
  protected modelProto(opsets: Record<string, number>, metadata: Record<string, string>, extra: Onnx.ITensorProto[] = []): Onnx.ModelProto {
    return onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'banking-intent-runtime',
      opsetImport: Object.entries(opsets).map(([domain, version]) => ({ domain, version })),
      metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: [...this.initializers, ...extra],
        input: this.inputs,
        output: this.outputs,
      },
    });
  }

  protected fresh(prefix: string): string {
    let name: string;
    do name = `${prefix}_${this.counter++}`;
    while (this.usedNames.has(name));
    return name;
  }

  protected claim(name: string): string {
    if (this.usedNames.has(name)) throw new ModelFormatError(`duplicate tensor name ${name}`);
    this.usedNames.add(name);
    return name;
  }
}

function valueInfo(name: string, elemType: DataTypeCode, dims: Dim[]): Onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

function attribute(name: string, value: Attribute): Onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: T.INTS, ints: value };
  if (typeof value === 'object') return { name, type: T.FLOAT, f: value.float };
  return { name, type: T.INT, i: value };
}

/** Reads the initializers of a serialised model back as typed arrays (for tests and inspection). */
export function readInitializers(bytes: Uint8Array): Map<string, { dims: number[]; data: TensorData }> {
  const model = onnx.ModelProto.decode(bytes);
  const out = new Map<string, { dims: number[]; data: TensorData }>();
  for (const t of model.graph?.initializer ?? []) {
    const raw = t.rawData ?? new Uint8Array();
    const buffer = raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength);
    const dims = (t.dims ?? []).map(Number);
    const data =
      t.dataType === DataType.FLOAT
        ? new Float32Array(buffer)
        : t.dataType === DataType.INT8
          ? new Int8Array(buffer)
          : t.dataType === DataType.UINT8
            ? new Uint8Array(buffer)
            : t.dataType === DataType.INT32
              ? new Int32Array(buffer)
              : new BigInt64Array(buffer);
    out.set(t.name ?? '', { dims, data });
  }
  return out;
}
