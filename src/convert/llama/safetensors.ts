/**
 * Safetensors, read and written one tensor at a time.
 *
 * The format: an 8-byte little-endian header length N, N bytes of JSON
 * (`{"name": {"dtype": "BF16", "shape": [out, in], "data_offsets": [begin, end]}, "__metadata__": {...}}`,
 * padded with spaces), then the raw little-endian tensor bytes, offsets relative to the end of the
 * header. A reader therefore never needs the whole file: it reads the header once, then exactly
 * `end - begin` bytes for the tensor asked for, through a file handle at an offset.
 *
 * A Hugging Face checkpoint is one `model.safetensors`, or shards listed by
 * `model.safetensors.index.json` (`{"weight_map": {"tensor name": "shard file"}}`); `SafetensorsCheckpoint`
 * reads either. `SafetensorsWriter` writes the header first (it is computed from the shapes, which
 * are known up front) and then appends the tensors in order, so writing needs one tensor in memory.
 *
 * Everything here assumes a little-endian host (x86, ARM as run by Node), as the format's bytes are.
 */
import { open, readdir, readFile, stat, type FileHandle } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ModelFileError, ModelFormatError } from '../../core/errors';
import { bf16ToF32, f16ToF32, f32ToBf16 } from './half';

export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16';
const BYTES_PER_ELEMENT: Record<SafetensorsDtype, number> = { F64: 8, F32: 4, F16: 2, BF16: 2 };
/** Other dtypes (I8, U8, I64, ...) may be listed, but reading them as floats is refused. */
const OTHER_DTYPE_BYTES: Record<string, number> = { I8: 1, U8: 1, BOOL: 1, I16: 2, U16: 2, I32: 4, U32: 4, I64: 8, U64: 8 };

export interface TensorInfo {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  /** Byte offsets of the data in the file (absolute, header included). */
  readonly begin: number;
  readonly end: number;
  readonly file: string;
}

/** Reads and conversions are done in chunks of this many bytes, so a 1 GB tensor needs no 1 GB staging buffer. */
const CHUNK_BYTES = 16 * 1024 * 1024;
/** Header JSON larger than this is not a safetensors file (the Rust library's limit is 100 MB). */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

// Half-precision conversions live in half.ts (no Node imports); re-exported for existing callers.

// Lookup tables: 65,536 entries each, built once, make half-precision decoding a table read.
let f16Table: Float32Array | undefined;
let bf16Table: Float32Array | undefined;
function halfTable(dtype: 'F16' | 'BF16'): Float32Array {
  if (dtype === 'F16') {
    if (!f16Table) f16Table = Float32Array.from({ length: 65536 }, (_, bits) => f16ToF32(bits));
    return f16Table;
  }
  if (!bf16Table) bf16Table = Float32Array.from({ length: 65536 }, (_, bits) => bf16ToF32(bits));
  return bf16Table;
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** One safetensors file, open until `close()`. `bytesRead` counts every byte read from it, header included. */
export class SafetensorsFile {
  bytesRead = 0;
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    /** Tensors in the order of their data in the file. */
    readonly tensors: readonly TensorInfo[],
    readonly metadata: Readonly<Record<string, string>>,
    private readonly byName: ReadonlyMap<string, TensorInfo>,
  ) {}

  static async open(path: string): Promise<SafetensorsFile> {
    const handle = await open(path, 'r').catch((error: unknown) => {
      throw new ModelFileError({ message: `cannot open ${path}: ${(error as Error).message}`, file: path, cause: error });
    });
    try {
      const size = (await handle.stat()).size;
      const lengthBytes = Buffer.alloc(8);
      await readFully(handle, lengthBytes, 0, path);
      const headerLength = Number(lengthBytes.readBigUInt64LE(0));
      if (size < 8 || headerLength <= 0 || headerLength > MAX_HEADER_BYTES || 8 + headerLength > size) {
        throw new ModelFileError({
          message: `${path} is not a safetensors file (header length ${headerLength}, file size ${size})`,
          file: path,
        });
      }
      const headerBytes = Buffer.alloc(headerLength);
      await readFully(handle, headerBytes, 8, path);
      let header: unknown;
      try {
        header = JSON.parse(headerBytes.toString('utf8'));
      } catch {
        throw new ModelFileError({ message: `${path}: the safetensors header is not valid JSON`, file: path });
      }
      if (typeof header !== 'object' || header === null || Array.isArray(header)) {
        throw new ModelFileError({ message: `${path}: the safetensors header is not a JSON object`, file: path });
      }
      const dataStart = 8 + headerLength;
      const tensors: TensorInfo[] = [];
      let metadata: Record<string, string> = {};
      for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
        if (name === '__metadata__') {
          metadata = (entry ?? {}) as Record<string, string>;
          continue;
        }
        tensors.push(parseEntry(path, name, entry, dataStart, size));
      }
      tensors.sort((a, b) => a.begin - b.begin);
      const file = new SafetensorsFile(path, handle, tensors, metadata, new Map(tensors.map((t) => [t.name, t])));
      file.bytesRead = 8 + headerLength;
      return file;
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  info(name: string): TensorInfo | undefined {
    return this.byName.get(name);
  }

  /** Reads one tensor, converting F16/BF16/F64 to float32. Reads only that tensor's bytes. */
  async readTensor(name: string): Promise<Float32Array> {
    const info = this.byName.get(name);
    if (!info) throw new ModelFileError({ message: `${this.path} has no tensor "${name}"`, file: this.path });
    if (!(info.dtype in BYTES_PER_ELEMENT)) {
      throw new ModelFileError({
        message: `tensor "${name}" in ${this.path} is ${info.dtype}; only F32, F16, BF16 and F64 can be read as floats`,
        file: this.path,
      });
    }
    const dtype = info.dtype as SafetensorsDtype;
    const count = product(info.shape);
    const out = new Float32Array(count);
    if (dtype === 'F32') {
      await readFully(this.handle, new Uint8Array(out.buffer), info.begin, this.path);
      this.bytesRead += count * 4;
      return out;
    }
    const width = BYTES_PER_ELEMENT[dtype];
    const perChunk = Math.max(1, Math.floor(CHUNK_BYTES / width));
    const chunk = new Uint8Array(Math.min(count, perChunk) * width);
    const table = dtype === 'F64' ? undefined : halfTable(dtype);
    for (let first = 0; first < count; first += perChunk) {
      const n = Math.min(perChunk, count - first);
      const bytes = chunk.subarray(0, n * width);
      await readFully(this.handle, bytes, info.begin + first * width, this.path);
      this.bytesRead += bytes.length;
      if (table) {
        const halves = new Uint16Array(bytes.buffer, bytes.byteOffset, n);
        for (let i = 0; i < n; i++) out[first + i] = table[halves[i]!]!;
      } else {
        const doubles = new Float64Array(bytes.buffer, bytes.byteOffset, n);
        for (let i = 0; i < n; i++) out[first + i] = doubles[i]!;
      }
    }
    return out;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

function parseEntry(path: string, name: string, entry: unknown, dataStart: number, size: number): TensorInfo {
  const bad = (why: string) => new ModelFileError({ message: `${path}: tensor "${name}" ${why}`, file: path });
  if (typeof entry !== 'object' || entry === null) throw bad('has no header entry object');
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
  if (typeof dtype !== 'string') throw bad('has no dtype');
  const width = BYTES_PER_ELEMENT[dtype as SafetensorsDtype] ?? OTHER_DTYPE_BYTES[dtype];
  if (width === undefined) throw bad(`has unknown dtype ${dtype}`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw bad('has an invalid shape');
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0)) {
    throw bad('has invalid data_offsets');
  }
  const [begin, end] = offsets as [number, number];
  const expected = product(shape as number[]) * width;
  if (end - begin !== expected) throw bad(`has ${end - begin} bytes of data; shape [${shape.join(', ')}] of ${dtype} needs ${expected}`);
  if (dataStart + end > size) throw bad(`ends at byte ${dataStart + end}, past the end of the file (${size} bytes): truncated?`);
  return { name, dtype, shape: shape as number[], begin: dataStart + begin, end: dataStart + end, file: path };
}

async function readFully(handle: FileHandle, target: Uint8Array, position: number, path: string): Promise<void> {
  let done = 0;
  while (done < target.length) {
    const length = Math.min(target.length - done, CHUNK_BYTES);
    const { bytesRead } = await handle.read(target, done, length, position + done);
    if (bytesRead === 0)
      throw new ModelFileError({ message: `${path} ended early (wanted ${target.length} bytes at ${position})`, file: path });
    done += bytesRead;
  }
}

export const INDEX_FILE = 'model.safetensors.index.json';

/**
 * A Hugging Face checkpoint directory: `model.safetensors.index.json` and its shards, or else every
 * `*.safetensors` file in the directory (usually just `model.safetensors`). Tensors are listed shard
 * by shard, each shard in its data order.
 */
export class SafetensorsCheckpoint {
  private constructor(
    readonly dir: string,
    readonly files: readonly SafetensorsFile[],
    private readonly byName: ReadonlyMap<string, { info: TensorInfo; file: SafetensorsFile }>,
  ) {}

  static async open(dir: string): Promise<SafetensorsCheckpoint> {
    const indexPath = join(dir, INDEX_FILE);
    let shardNames: string[];
    let weightMap: Record<string, string> | undefined;
    if (await exists(indexPath)) {
      let index: unknown;
      try {
        index = JSON.parse(await readFile(indexPath, 'utf8'));
      } catch (error) {
        throw new ModelFileError({ message: `${indexPath} is not valid JSON: ${(error as Error).message}`, file: indexPath, cause: error });
      }
      const map = (index as { weight_map?: unknown } | null)?.weight_map;
      if (typeof map !== 'object' || map === null)
        throw new ModelFileError({ message: `${indexPath} has no "weight_map" object`, file: indexPath });
      weightMap = map as Record<string, string>;
      shardNames = [...new Set(Object.values(weightMap))].sort();
    } else {
      const entries = await readdir(dir).catch((error: unknown) => {
        throw new ModelFileError({
          message: `cannot read checkpoint directory ${dir}: ${(error as Error).message}`,
          file: dir,
          cause: error,
        });
      });
      shardNames = entries.filter((f) => f.endsWith('.safetensors')).sort();
      if (shardNames.length === 0)
        throw new ModelFileError({ message: `${dir} has no *.safetensors file and no ${INDEX_FILE}`, file: dir });
    }
    const files: SafetensorsFile[] = [];
    try {
      for (const shard of shardNames) files.push(await SafetensorsFile.open(join(dir, basename(shard))));
      const byName = new Map<string, { info: TensorInfo; file: SafetensorsFile }>();
      for (const file of files) {
        for (const info of file.tensors) {
          const previous = byName.get(info.name);
          if (previous)
            throw new ModelFileError({
              message: `tensor "${info.name}" is in both ${previous.file.path} and ${file.path}`,
              file: file.path,
            });
          byName.set(info.name, { info, file });
        }
      }
      if (weightMap) {
        for (const [name, shard] of Object.entries(weightMap)) {
          const found = byName.get(name);
          if (!found || basename(found.file.path) !== basename(shard)) {
            throw new ModelFileError({
              message: `${INDEX_FILE} puts tensor "${name}" in ${shard}, but that shard has no such tensor`,
              file: join(dir, shard),
            });
          }
        }
      }
      return new SafetensorsCheckpoint(dir, files, byName);
    } catch (error) {
      await Promise.all(files.map((f) => f.close()));
      throw error;
    }
  }

  /** Every tensor, shard by shard, each shard in its data order. */
  listTensors(): TensorInfo[] {
    return this.files.flatMap((f) => f.tensors);
  }

  info(name: string): TensorInfo | undefined {
    return this.byName.get(name)?.info;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  async readTensor(name: string): Promise<Float32Array> {
    const found = this.byName.get(name);
    if (!found) throw new ModelFileError({ message: `checkpoint ${this.dir} has no tensor "${name}"`, file: this.dir });
    return found.file.readTensor(name);
  }

  /** Bytes read from all shards so far, headers included. */
  get bytesRead(): number {
    return this.files.reduce((sum, f) => sum + f.bytesRead, 0);
  }

  async close(): Promise<void> {
    await Promise.all(this.files.map((f) => f.close()));
  }
}

/** Whether a file or folder is there. */
export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

export interface TensorSpec {
  readonly name: string;
  readonly shape: readonly number[];
}

export type WriteDtype = 'F32' | 'BF16';

/** The header bytes (length prefix included) for `specs` stored in order as `dtype`; padded with spaces to 8 bytes. */
export function encodeHeader(specs: readonly TensorSpec[], dtype: WriteDtype, metadata: Record<string, string> = { format: 'pt' }): Buffer {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const { name, shape } of specs) {
    if (name in header) throw new ModelFormatError(`tensor "${name}" is listed twice`);
    const bytes = product(shape) * BYTES_PER_ELEMENT[dtype];
    header[name] = { dtype, shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const body = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + body.length);
  out.writeBigUInt64LE(BigInt(body.length), 0);
  body.copy(out, 8);
  return out;
}

/**
 * Writes a safetensors file tensor by tensor. The tensors and their shapes are declared up front, so
 * the header is written first and each `write` appends one tensor's data: memory holds one tensor.
 */
export class SafetensorsWriter {
  private next = 0;
  private position: number;
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    private readonly specs: readonly TensorSpec[],
    readonly dtype: WriteDtype,
    headerBytes: number,
  ) {
    this.position = headerBytes;
  }

  static async create(
    path: string,
    specs: readonly TensorSpec[],
    options: { dtype?: WriteDtype; metadata?: Record<string, string> } = {},
  ): Promise<SafetensorsWriter> {
    const dtype = options.dtype ?? 'F32';
    const header = encodeHeader(specs, dtype, options.metadata);
    const handle = await open(path, 'w');
    try {
      await writeFully(handle, header, 0);
    } catch (error) {
      await handle.close();
      throw error;
    }
    return new SafetensorsWriter(path, handle, specs, dtype, header.length);
  }

  /** Appends the next tensor; `name` and the data's length must match the next declared tensor. */
  async write(name: string, data: Float32Array): Promise<void> {
    const spec = this.specs[this.next];
    if (!spec) throw new ModelFormatError(`${this.path}: "${name}" written after all ${this.specs.length} declared tensors`);
    if (spec.name !== name) throw new ModelFormatError(`${this.path}: expected tensor "${spec.name}" next, got "${name}"`);
    const count = product(spec.shape);
    if (data.length !== count)
      throw new ModelFormatError(`tensor "${name}" has ${data.length} values; shape [${spec.shape.join(', ')}] needs ${count}`);
    if (this.dtype === 'F32') {
      await writeFully(this.handle, new Uint8Array(data.buffer, data.byteOffset, data.byteLength), this.position);
      this.position += data.byteLength;
    } else {
      const perChunk = CHUNK_BYTES / 2;
      const halves = new Uint16Array(Math.min(count, perChunk));
      for (let first = 0; first < count; first += perChunk) {
        const n = Math.min(perChunk, count - first);
        for (let i = 0; i < n; i++) halves[i] = f32ToBf16(data[first + i]!);
        await writeFully(this.handle, new Uint8Array(halves.buffer, 0, n * 2), this.position);
        this.position += n * 2;
      }
    }
    this.next++;
  }

  /**
   * Appends the next tensor without holding it: `fill(chunk, first)` writes values `first ..
   * first + chunk.length - 1` into `chunk`, a few million at a time. For writing large generated
   * tensors (a random checkpoint) in bounded memory.
   */
  async writeGenerated(name: string, fill: (chunk: Float32Array, first: number) => void): Promise<void> {
    const spec = this.specs[this.next];
    if (!spec) throw new ModelFormatError(`${this.path}: "${name}" written after all ${this.specs.length} declared tensors`);
    if (spec.name !== name) throw new ModelFormatError(`${this.path}: expected tensor "${spec.name}" next, got "${name}"`);
    const count = product(spec.shape);
    const perChunk = CHUNK_BYTES / 4;
    const values = new Float32Array(Math.min(count, perChunk));
    const halves = this.dtype === 'BF16' ? new Uint16Array(values.length) : undefined;
    for (let first = 0; first < count; first += perChunk) {
      const n = Math.min(perChunk, count - first);
      const chunk = values.subarray(0, n);
      fill(chunk, first);
      let bytes: Uint8Array;
      if (halves) {
        for (let i = 0; i < n; i++) halves[i] = f32ToBf16(chunk[i]!);
        bytes = new Uint8Array(halves.buffer, 0, n * 2);
      } else bytes = new Uint8Array(values.buffer, 0, n * 4);
      await writeFully(this.handle, bytes, this.position);
      this.position += bytes.length;
    }
    this.next++;
  }

  /** Closes the file; throws if some declared tensor was never written. */
  async close(): Promise<void> {
    await this.handle.close();
    if (this.next !== this.specs.length) {
      throw new ModelFormatError(
        `${this.path}: only ${this.next} of ${this.specs.length} tensors written (next: "${this.specs[this.next]?.name}")`,
      );
    }
  }
}

async function writeFully(handle: FileHandle, data: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await handle.write(data, done, Math.min(data.length - done, CHUNK_BYTES), position + done);
    done += bytesWritten;
  }
}
