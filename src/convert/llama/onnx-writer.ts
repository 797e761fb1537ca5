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
import { asBytes, BYTES, DataType, elementCount, GraphBuilder, type DataTypeCode, type TensorBytes } from '../../models/onnx/graph-builder';
import { ModelFormatError } from '../../core/errors';
import { concatTyped } from '../../core/typed-arrays';

const { onnx } = onnxProto;

/** One protobuf file holds at most 2 GiB; keep a margin for the graph itself. */
export const ONNX_FILE_LIMIT = 2 ** 31 - 64 * 2 ** 20;
/** External data files are cut at tensor boundaries into chunks of at most this many bytes. */
const EXTERNAL_CHUNK_LIMIT = ONNX_FILE_LIMIT;
/** Each tensor in an external data file starts at a multiple of this (a page, so it can be memory-mapped). */
const EXTERNAL_ALIGNMENT = 4096;
/** Bytes copied per read when assembling a file. */
const COPY_CHUNK = 16 * 2 ** 20;

export interface DeclaredWeight {
  readonly name: string;
  readonly type: DataTypeCode;
  readonly dims: readonly number[];
  readonly bytes: number;
}

/** A graph whose weights are declared by shape and supplied later, to the writers below. */
export class OnnxGraph extends GraphBuilder {
  private readonly declared = new Map<string, DeclaredWeight>();

  constructor(
    name: string,
    readonly opsets: Record<string, number>,
    readonly metadata: Record<string, string> = {},
  ) {
    super(name);
  }

  /** A weight whose bytes are supplied later (see the writers). */
  weight(name: string, type: DataTypeCode, dims: number[]): string {
    this.declared.set(this.claim(name), { name, type, dims, bytes: elementCount(dims) * BYTES[type] });
    return name;
  }

  /** A scalar constant of the activation type (float32, or float16). */
  constOf(value: number, type: DataTypeCode): string {
    return type === DataType.FLOAT16 ? this.constFloat(value, { toHalf: f32ToF16 }) : this.constFloat(value);
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
    return onnx.ModelProto.encode(this.modelProto(this.opsets, this.metadata, extra)).finish();
  }

  /** The ModelProto's own fields (no graph) and the graph's small part, encoded separately (see the module comment). */
  encodeParts(): { model: Uint8Array; graph: Uint8Array } {
    const { graph, ...rest } = this.modelProto(this.opsets, this.metadata);
    return { model: onnx.ModelProto.encode(onnx.ModelProto.create(rest)).finish(), graph: onnx.GraphProto.encode(graph!).finish() };
  }
}

function checkWeight(graph: OnnxGraph, name: string, data: TensorBytes): DeclaredWeight {
  const info = graph.weightInfo(name);
  if (!info) throw new ModelFormatError(`weight ${name} was not declared in the graph`);
  if (data.byteLength !== info.bytes)
    throw new ModelFormatError(`weight ${name}: ${data.byteLength} bytes, dims [${info.dims}] need ${info.bytes}`);
  return info;
}

function missingWeights(graph: OnnxGraph, have: (name: string) => boolean): void {
  const missing = graph.weights.filter((w) => !have(w.name)).map((w) => w.name);
  if (missing.length) throw new ModelFormatError(`no data for ${missing.length} weight(s): ${missing.slice(0, 5).join(', ')}`);
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
    if (this.placed.has(name)) throw new ModelFormatError(`weight ${name} supplied twice`);
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
      throw new ModelFormatError(
        `${basename(this.path)} would take ${(total / 2 ** 30).toFixed(2)} GiB, over the 2 GiB one ONNX file can hold`,
      );
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
    if (position !== total) throw new ModelFormatError(`${this.path}: wrote ${position} bytes, expected ${total}`);
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
    const raw = concatTyped([lengthDelimited(TENSOR_RAW_DATA), varint(w.bytes)], Uint8Array);
    const tensorBytes = header.length + raw.length + w.bytes;
    return concatTyped([lengthDelimited(GRAPH_INITIALIZER), varint(tensorBytes), header, raw], Uint8Array);
  }
}

const align = (n: number) => Math.ceil(n / EXTERNAL_ALIGNMENT) * EXTERNAL_ALIGNMENT;

async function writeAll(handle: FileHandle, data: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < data.length;) {
    const { bytesWritten } = await handle.write(data, done, Math.min(data.length - done, COPY_CHUNK), position + done);
    done += bytesWritten;
  }
}

async function readAll(handle: FileHandle, target: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < target.length;) {
    const { bytesRead } = await handle.read(target, done, target.length - done, position + done);
    if (bytesRead === 0) throw new ModelFormatError('external data file ended early');
    done += bytesRead;
  }
}
