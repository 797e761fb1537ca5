/**
 * An ONNX graph whose large weights are declared first and filled in later, and the writers that
 * turn it into files without ever holding all the weights in memory.
 *
 * `OnnxGraph` is built from shapes alone: nodes, inputs, outputs, small constants inline, and the
 * model's weights declared with `weight(name, type, dims)`. Their bytes come afterwards, one tensor
 * at a time, so an exporter can stream a checkpoint: merge one tensor, quantise it, hand the bytes
 * over, drop it.
 *
 * - `encodeOnnxInline` writes one self-contained file from weights held in memory (small models).
 * - `OnnxFileWriter` appends each weight to data files on disk as it arrives and, at the end, writes
 *   either one self-contained `.onnx` (the weights copied into it from those files, a chunk at a
 *   time) or, for a model over the 2 GiB a protobuf file can hold, a small `.onnx` whose tensors point
 *   into `NAME.onnx_data` (then `NAME.onnx_data_1`, ...): ONNX external data, as onnxruntime reads it
 *   (`location` relative to the .onnx file, `offset`, `length`) and as transformers.js 4.3 names the
 *   chunks (`use_external_data_format` = the number of chunks, see utils/model-loader.js).
 *
 * The self-contained file is assembled by hand: a protobuf message's fields may come in any order
 * and a repeated field may be spread out, so the graph is the encoded small part followed by one
 * `initializer` field per weight, each `TensorProto` header followed by its `raw_data` field.
 */
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import onnxProto, { type onnx as Onnx } from 'onnx-proto';
import { f32ToF16 } from './half';

const { onnx } = onnxProto;

export const ElemType = {
  FLOAT: onnx.TensorProto.DataType.FLOAT,
  UINT8: onnx.TensorProto.DataType.UINT8,
  INT32: onnx.TensorProto.DataType.INT32,
  INT64: onnx.TensorProto.DataType.INT64,
  FLOAT16: onnx.TensorProto.DataType.FLOAT16,
} as const;
export type ElemTypeCode = (typeof ElemType)[keyof typeof ElemType];

const BYTES: Record<ElemTypeCode, number> = {
  [ElemType.FLOAT]: 4,
  [ElemType.UINT8]: 1,
  [ElemType.INT32]: 4,
  [ElemType.INT64]: 8,
  [ElemType.FLOAT16]: 2,
};

type Attribute = number | number[] | string | { float: number };
export type Dim = number | string;
/** Bytes of a tensor: any typed array (float16 as Uint16Array bits). */
export type TensorBytes = ArrayBufferView;

/** One protobuf file holds at most 2 GiB; keep a margin for the graph itself. */
export const ONNX_FILE_LIMIT = 2 ** 31 - 64 * 2 ** 20;
/** External data files are cut at tensor boundaries into chunks of at most this many bytes. */
export const EXTERNAL_CHUNK_LIMIT = ONNX_FILE_LIMIT;
/** Each tensor in an external data file starts at a multiple of this (a page, so it can be memory-mapped). */
const EXTERNAL_ALIGNMENT = 4096;
/** Bytes copied per read when assembling a file. */
const COPY_CHUNK = 16 * 2 ** 20;

export interface DeclaredWeight {
  readonly name: string;
  readonly type: ElemTypeCode;
  readonly dims: readonly number[];
  readonly bytes: number;
}

const count = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);
const asBytes = (data: TensorBytes) => new Uint8Array(data.buffer, data.byteOffset, data.byteLength);

export class OnnxGraph {
  private readonly nodes: Onnx.INodeProto[] = [];
  private readonly inline: Onnx.ITensorProto[] = [];
  private readonly inputs: Onnx.IValueInfoProto[] = [];
  private readonly outputs: Onnx.IValueInfoProto[] = [];
  private readonly usedNames = new Set<string>();
  private readonly declared = new Map<string, DeclaredWeight>();
  private counter = 0;

  constructor(
    private readonly name: string,
    readonly opsets: Record<string, number>,
    readonly metadata: Record<string, string> = {},
  ) {}

  input(name: string, type: ElemTypeCode, dims: Dim[]): string {
    this.inputs.push(valueInfo(name, type, dims));
    return this.claim(name);
  }

  output(name: string, type: ElemTypeCode, dims: Dim[]): void {
    this.outputs.push(valueInfo(name, type, dims));
  }

  /** A small constant stored in the graph itself. */
  initializer(name: string, type: ElemTypeCode, data: TensorBytes, dims: number[]): string {
    if (data.byteLength !== count(dims) * BYTES[type]) throw new Error(`initializer ${name}: ${data.byteLength} bytes for dims [${dims}]`);
    this.inline.push({ name: this.claim(name), dims, dataType: type, rawData: asBytes(data) });
    return name;
  }

  /** A weight whose bytes are supplied later (see the writers). */
  weight(name: string, type: ElemTypeCode, dims: number[]): string {
    this.declared.set(this.claim(name), { name, type, dims, bytes: count(dims) * BYTES[type] });
    return name;
  }

  constFloat(value: number, type: ElemTypeCode = ElemType.FLOAT): string {
    const data = type === ElemType.FLOAT16 ? Uint16Array.of(f32ToF16(value)) : Float32Array.of(value);
    return this.initializer(this.fresh('const'), type, data, []);
  }

  constInt64(values: number[]): string {
    return this.initializer(this.fresh('const'), ElemType.INT64, BigInt64Array.from(values.map(BigInt)), [values.length]);
  }

  node(
    opType: string,
    inputs: string[],
    attributes: Record<string, Attribute> = {},
    options: { outputs?: string[]; domain?: string } = {},
  ): string {
    const outputs = options.outputs ?? [this.fresh(opType)];
    outputs.forEach((o) => this.claim(o));
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

  /** The declared weights, in declaration order. */
  get weights(): readonly DeclaredWeight[] {
    return [...this.declared.values()];
  }

  weightInfo(name: string): DeclaredWeight | undefined {
    return this.declared.get(name);
  }

  /** Bytes of all declared weights. */
  get weightBytes(): number {
    let sum = 0;
    for (const w of this.declared.values()) sum += w.bytes;
    return sum;
  }

  /** The model without the declared weights' data: `extra` initializers (external references, or inline data) added. */
  encode(extra: Onnx.ITensorProto[] = []): Uint8Array {
    return onnx.ModelProto.encode(this.model(extra)).finish();
  }

  /** The ModelProto's own fields (no graph) and the graph's small part, encoded separately (see the module comment). */
  encodeParts(): { model: Uint8Array; graph: Uint8Array } {
    const { graph, ...rest } = this.model([]);
    return { model: onnx.ModelProto.encode(onnx.ModelProto.create(rest)).finish(), graph: onnx.GraphProto.encode(graph!).finish() };
  }

  private model(extra: Onnx.ITensorProto[]): Onnx.ModelProto {
    return onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'banking-intent-runtime',
      opsetImport: Object.entries(this.opsets).map(([domain, version]) => ({ domain, version })),
      metadataProps: Object.entries(this.metadata).map(([key, value]) => ({ key, value })),
      graph: { name: this.name, node: this.nodes, initializer: [...this.inline, ...extra], input: this.inputs, output: this.outputs },
    });
  }

  private fresh(prefix: string): string {
    let name: string;
    do name = `${prefix}_${this.counter++}`;
    while (this.usedNames.has(name));
    return name;
  }

  private claim(name: string): string {
    if (this.usedNames.has(name)) throw new Error(`duplicate tensor name ${name}`);
    this.usedNames.add(name);
    return name;
  }
}

function checkWeight(graph: OnnxGraph, name: string, data: TensorBytes): DeclaredWeight {
  const info = graph.weightInfo(name);
  if (!info) throw new Error(`weight ${name} was not declared in the graph`);
  if (data.byteLength !== info.bytes) throw new Error(`weight ${name}: ${data.byteLength} bytes, dims [${info.dims}] need ${info.bytes}`);
  return info;
}

function missingWeights(graph: OnnxGraph, have: (name: string) => boolean): void {
  const missing = graph.weights.filter((w) => !have(w.name)).map((w) => w.name);
  if (missing.length) throw new Error(`no data for ${missing.length} weight(s): ${missing.slice(0, 5).join(', ')}`);
}

/** One self-contained model from weights in memory. */
export function encodeOnnxInline(graph: OnnxGraph, data: ReadonlyMap<string, TensorBytes>): Uint8Array {
  missingWeights(graph, (name) => data.has(name));
  const extra = graph.weights.map((w) => {
    const bytes = data.get(w.name)!;
    checkWeight(graph, w.name, bytes);
    return { name: w.name, dims: [...w.dims], dataType: w.type, rawData: asBytes(bytes) };
  });
  return graph.encode(extra);
}

// ---------------------------------------------------------------------------------------------
// Streaming to files
// ---------------------------------------------------------------------------------------------

/** Protobuf varint of a non-negative integer below 2^53. */
function varint(value: number): Uint8Array {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Uint8Array.from(out);
}

/** Field key: (field number << 3) | wire type 2 (length-delimited). */
const lengthDelimited = (field: number) => Uint8Array.of((field << 3) | 2);
const MODEL_GRAPH = 7;
const GRAPH_INITIALIZER = 5;
const TENSOR_RAW_DATA = 9;

interface Placed {
  chunk: number;
  offset: number;
  bytes: number;
}

export interface OnnxFileSummary {
  /** Files written, with their sizes: the .onnx and, with external data, its data chunks. */
  files: { path: string; bytes: number }[];
  /** External data chunks (0: one self-contained file). */
  chunks: number;
}

/**
 * Writes `graph` to `path` (e.g. `OUT/onnx/model_q4.onnx`), its weights supplied one at a time with
 * `put` in any order. They go to `PATH_data*.partial` files straight away; `finish` decides the
 * layout. Memory: the tensor being written, plus a 16 MiB copy buffer.
 */
export class OnnxFileWriter {
  private readonly placed = new Map<string, Placed>();
  private readonly chunkFiles: FileHandle[] = [];
  private readonly chunkSizes: number[] = [];

  private constructor(
    readonly path: string,
    readonly graph: OnnxGraph,
    private readonly chunkLimit: number,
  ) {}

  static create(path: string, graph: OnnxGraph, options: { chunkLimit?: number } = {}): OnnxFileWriter {
    return new OnnxFileWriter(path, graph, options.chunkLimit ?? EXTERNAL_CHUNK_LIMIT);
  }

  /** `NAME.onnx_data`, `NAME.onnx_data_1`, ...: transformers.js's names for the chunks. */
  chunkPath(chunk: number): string {
    return `${this.path}_data${chunk === 0 ? '' : `_${chunk}`}`;
  }

  /** Size of the self-contained file, were it written now (all weights declared, not necessarily put). */
  singleFileBytes(): number {
    const { model, graph } = this.graph.encodeParts();
    let graphBytes = graph.length;
    for (const w of this.graph.weights) graphBytes += this.initializerField(w).length + w.bytes;
    return model.length + 1 + varint(graphBytes).length + graphBytes;
  }

  async put(name: string, data: TensorBytes): Promise<void> {
    const info = checkWeight(this.graph, name, data);
    if (this.placed.has(name)) throw new Error(`weight ${name} supplied twice`);
    let chunk = this.chunkFiles.length - 1;
    let offset = chunk < 0 ? 0 : align(this.chunkSizes[chunk]!);
    if (chunk < 0 || (offset > 0 && offset + info.bytes > this.chunkLimit)) {
      chunk++;
      this.chunkFiles.push(await open(`${this.chunkPath(chunk)}.partial`, 'w+'));
      this.chunkSizes.push(0);
      offset = 0;
    }
    await writeAll(this.chunkFiles[chunk]!, asBytes(data), offset);
    this.chunkSizes[chunk] = offset + info.bytes;
    this.placed.set(name, { chunk, offset, bytes: info.bytes });
  }

  /**
   * Writes the model: `external` false puts everything in one file (refused over 2 GiB), true keeps
   * the weights in the data chunks beside it. Either way the .onnx appears under its name last.
   */
  async finish(external: boolean): Promise<OnnxFileSummary> {
    missingWeights(this.graph, (name) => this.placed.has(name));
    for (const handle of this.chunkFiles) await handle.sync();
    try {
      return external ? await this.finishExternal() : await this.finishSingle();
    } finally {
      await this.closeChunks();
    }
  }

  /** Removes every file this writer started (after a failure). */
  async abort(): Promise<void> {
    await this.closeChunks();
    await Promise.all(this.chunkSizes.map((_, i) => rm(`${this.chunkPath(i)}.partial`, { force: true })));
    await rm(`${this.path}.partial`, { force: true });
  }

  private async closeChunks(): Promise<void> {
    await Promise.all(this.chunkFiles.splice(0).map((h) => h.close().catch(() => undefined)));
  }

  private async finishExternal(): Promise<OnnxFileSummary> {
    const extra = this.graph.weights.map((w) => {
      const p = this.placed.get(w.name)!;
      return {
        name: w.name,
        dims: [...w.dims],
        dataType: w.type,
        dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: [
          { key: 'location', value: basename(this.chunkPath(p.chunk)) },
          { key: 'offset', value: String(p.offset) },
          { key: 'length', value: String(p.bytes) },
        ],
      };
    });
    const bytes = this.graph.encode(extra);
    const files: OnnxFileSummary['files'] = [];
    for (let i = 0; i < this.chunkSizes.length; i++) {
      await rename(`${this.chunkPath(i)}.partial`, this.chunkPath(i));
      files.push({ path: this.chunkPath(i), bytes: this.chunkSizes[i]! });
    }
    const handle = await open(`${this.path}.partial`, 'w');
    try {
      await writeAll(handle, bytes, 0);
    } finally {
      await handle.close();
    }
    await rename(`${this.path}.partial`, this.path);
    return { files: [{ path: this.path, bytes: bytes.length }, ...files], chunks: this.chunkSizes.length };
  }

  private async finishSingle(): Promise<OnnxFileSummary> {
    const total = this.singleFileBytes();
    if (total > ONNX_FILE_LIMIT) {
      throw new Error(`${basename(this.path)} would take ${(total / 2 ** 30).toFixed(2)} GiB, over the 2 GiB one ONNX file can hold`);
    }
    const { model, graph } = this.graph.encodeParts();
    let graphBytes = graph.length;
    for (const w of this.graph.weights) graphBytes += this.initializerField(w).length + w.bytes;
    const out = await open(`${this.path}.partial`, 'w');
    const buffer = new Uint8Array(COPY_CHUNK);
    let position = 0;
    const write = async (bytes: Uint8Array) => {
      await writeAll(out, bytes, position);
      position += bytes.length;
    };
    try {
      await write(model);
      await write(lengthDelimited(MODEL_GRAPH));
      await write(varint(graphBytes));
      await write(graph);
      for (const w of this.graph.weights) {
        const p = this.placed.get(w.name)!;
        await write(this.initializerField(w));
        for (let done = 0; done < p.bytes;) {
          const n = Math.min(COPY_CHUNK, p.bytes - done);
          await readAll(this.chunkFiles[p.chunk]!, buffer.subarray(0, n), p.offset + done);
          await write(buffer.subarray(0, n));
          done += n;
        }
      }
      await out.sync();
    } finally {
      await out.close();
    }
    if (position !== total) throw new Error(`${this.path}: wrote ${position} bytes, expected ${total}`);
    await this.closeChunks();
    await Promise.all(this.chunkSizes.map((_, i) => rm(`${this.chunkPath(i)}.partial`, { force: true })));
    await rename(`${this.path}.partial`, this.path);
    return { files: [{ path: this.path, bytes: total }], chunks: 0 };
  }

  /**
   * Everything of one `initializer` field but the raw bytes: field key, length, the TensorProto's
   * name, dims and type, then the `raw_data` key and length. The raw bytes follow it in the file.
   */
  private initializerField(w: DeclaredWeight): Uint8Array {
    const header = onnx.TensorProto.encode({ name: w.name, dims: [...w.dims], dataType: w.type }).finish();
    const raw = concat([lengthDelimited(TENSOR_RAW_DATA), varint(w.bytes)]);
    const tensorBytes = header.length + raw.length + w.bytes;
    return concat([lengthDelimited(GRAPH_INITIALIZER), varint(tensorBytes), header, raw]);
  }
}

const align = (n: number) => Math.ceil(n / EXTERNAL_ALIGNMENT) * EXTERNAL_ALIGNMENT;

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

async function writeAll(handle: FileHandle, data: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < data.length;) {
    const { bytesWritten } = await handle.write(data, done, Math.min(data.length - done, COPY_CHUNK), position + done);
    done += bytesWritten;
  }
}

async function readAll(handle: FileHandle, target: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < target.length;) {
    const { bytesRead } = await handle.read(target, done, target.length - done, position + done);
    if (bytesRead === 0) throw new Error('external data file ended early');
    done += bytesRead;
  }
}

function valueInfo(name: string, elemType: ElemTypeCode, dims: Dim[]): Onnx.IValueInfoProto {
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
