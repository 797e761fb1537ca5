/**
 * The integrity manifest of a model folder: `manifest.json`, the SHA-256 and size of every file a
 * runtime loads from the folder (written by `npm run models:manifest` and by the training scripts):
 *
 *   { "version": 1, "files": { "model.onnx": { "sha256": "3f2a…", "bytes": 3538632 }, ... } }
 *
 * Paths are relative to the folder, with `/` (`onnx/model_q4.onnx`). The engines check each file
 * against it before handing it to onnxruntime or transformers.js, and the service worker checks
 * its cached copies against it before serving them. This module runs everywhere (page, worker,
 * service worker, Node): it hashes with `crypto.subtle` where there is one, else in plain JS
 * (`crypto.subtle` exists only in secure contexts, and a site may be tried over plain http).
 */
import { ModelFileError } from '../core/errors';

export const MODEL_MANIFEST_FILE = 'manifest.json';

/**
 * A model file that is not the one its manifest describes (or a manifest that is missing or
 * unreadable). A `ModelFileError` to every caller; the class only tells the worker host that the
 * problem is the same on every device, so there is no point in trying another one.
 */
export class ModelIntegrityError extends ModelFileError {
  static override readonly kind: string = 'ModelIntegrityError';
}

export interface ManifestEntry {
  /** Lower-case hex. */
  sha256: string;
  bytes: number;
}

export interface ModelManifest {
  version: 1;
  files: Record<string, ManifestEntry>;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** Parses and validates `manifest.json`; a `ModelFileError` naming the manifest says what is wrong. */
export function parseModelManifest(content: Uint8Array | string): ModelManifest {
  const fail = (why: string, cause?: unknown) =>
    new ModelIntegrityError({ message: `Model file ${MODEL_MANIFEST_FILE} is corrupt: ${why}`, file: MODEL_MANIFEST_FILE, cause });
  let raw: unknown;
  try {
    raw = JSON.parse(typeof content === 'string' ? content : new TextDecoder().decode(content));
  } catch (error) {
    throw fail((error as Error).message, error);
  }
  if (typeof raw !== 'object' || raw === null) throw fail('expected a JSON object.');
  const { version, files } = raw as { version?: unknown; files?: unknown };
  if (version !== 1) throw fail(`unknown version ${JSON.stringify(version)} (expected 1).`);
  if (typeof files !== 'object' || files === null || Array.isArray(files)) throw fail('"files" must be an object.');
  const checked: Record<string, ManifestEntry> = {};
  for (const [path, entry] of Object.entries(files as Record<string, unknown>)) {
    const { sha256, bytes } = (entry ?? {}) as { sha256?: unknown; bytes?: unknown };
    if (typeof sha256 !== 'string' || !HEX64.test(sha256)) throw fail(`"${path}" has no valid sha256.`);
    if (typeof bytes !== 'number' || !Number.isInteger(bytes) || bytes < 0) throw fail(`"${path}" has no valid size.`);
    checked[path] = { sha256, bytes };
  }
  return { version: 1, files: checked };
}

/** The manifest as written to disk: files sorted, two-space indent, final newline (stable diffs). */
export function serializeModelManifest(manifest: ModelManifest): string {
  const files = Object.fromEntries(
    Object.keys(manifest.files)
      .sort()
      .map((path) => [path, manifest.files[path]]),
  );
  return JSON.stringify({ version: 1, files }, null, 2) + '\n';
}

/** SHA-256 of `bytes`, lower-case hex. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const subtle = (globalThis as { crypto?: Crypto }).crypto?.subtle;
  const digest = subtle ? new Uint8Array(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>)) : sha256(bytes);
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Why `bytes` are not the file the manifest describes, or undefined when they are. */
export async function manifestMismatch(manifest: ModelManifest, file: string, bytes: Uint8Array): Promise<ModelIntegrityError | undefined> {
  const expected = manifest.files[file];
  if (!expected) {
    return new ModelIntegrityError({
      message: `${file} is not listed in ${MODEL_MANIFEST_FILE}: the manifest belongs to another build of the model. Rebuild the model, or run \`npm run models:manifest\` after a deliberate change.`,
      file,
    });
  }
  // The size first: a truncated download is told apart without hashing.
  const actual = bytes.byteLength === expected.bytes ? await sha256Hex(bytes) : undefined;
  if (actual === expected.sha256) return undefined;
  const what =
    actual === undefined
      ? `${bytes.byteLength} bytes, expected ${expected.bytes}`
      : `sha256 ${actual.slice(0, 12)}…, expected ${expected.sha256.slice(0, 12)}…`;
  return new ModelIntegrityError({
    message: `${file} does not match its manifest (${what}): the file is corrupt or was changed. Reload, or rebuild the model.`,
    file,
  });
}

/** Throws the `ModelFileError` of `manifestMismatch`. */
export async function verifyModelFile(manifest: ModelManifest, file: string, bytes: Uint8Array): Promise<void> {
  const mismatch = await manifestMismatch(manifest, file, bytes);
  if (mismatch) throw mismatch;
}

/** The error for model output that is not a number: weights that parse but compute NaN or ±Infinity. */
export function nonFiniteOutputError(file: string, value: number): ModelFileError {
  return new ModelFileError({
    message: `${file} produced non-finite scores (${value}): its weights are corrupt or were changed. Reload, or rebuild the model.`,
    file,
  });
}

/** The first value of `values` that is NaN or infinite, or undefined. */
export function firstNonFinite(values: ArrayLike<number>): number | undefined {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) return values[i];
  return undefined;
}

// --- SHA-256 in plain JS (FIPS 180-4), for contexts without crypto.subtle ----------------------

const K = new Uint32Array(64);
{
  // The first 32 bits of the fractional parts of the cube roots of the first 64 primes.
  let n = 2;
  for (let i = 0; i < 64; n++) {
    let prime = true;
    for (let d = 2; d * d <= n; d++) if (n % d === 0) prime = false;
    if (prime) K[i++] = ((n ** (1 / 3) % 1) * 2 ** 32) >>> 0;
  }
}

function sha256(data: Uint8Array): Uint8Array {
  const h = Uint32Array.of(0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19);
  const w = new Uint32Array(64);
  const compress = (bytes: Uint8Array, offset: number) => {
    for (let i = 0; i < 16; i++) {
      const o = offset + 4 * i;
      w[i] = ((bytes[o]! << 24) | (bytes[o + 1]! << 16) | (bytes[o + 2]! << 8) | bytes[o + 3]!) >>> 0;
    }
    for (let i = 16; i < 64; i++) {
      const a = w[i - 15]!;
      const b = w[i - 2]!;
      const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
      const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
      w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) >>> 0;
    }
    let a = h[0]!,
      b = h[1]!,
      c = h[2]!,
      d = h[3]!,
      e = h[4]!,
      f = h[5]!,
      g = h[6]!,
      hh = h[7]!;
    for (let i = 0; i < 64; i++) {
      const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (hh + s1 + ((e & f) ^ (~e & g)) + K[i]! + w[i]!) >>> 0;
      const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) >>> 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) >>> 0;
    }
    [a, b, c, d, e, f, g, hh].forEach((v, i) => (h[i] = (h[i]! + v) >>> 0));
  };
  const whole = data.length - (data.length % 64);
  for (let offset = 0; offset < whole; offset += 64) compress(data, offset);
  // The rest, 0x80, zeros, and the length in bits as a 64-bit big-endian number.
  const tail = new Uint8Array(data.length % 64 < 56 ? 64 : 128);
  tail.set(data.subarray(whole));
  tail[data.length % 64] = 0x80;
  const view = new DataView(tail.buffer);
  view.setUint32(tail.length - 8, Math.floor(data.length / 2 ** 29));
  view.setUint32(tail.length - 4, (data.length * 8) >>> 0);
  for (let offset = 0; offset < tail.length; offset += 64) compress(tail, offset);
  const out = new Uint8Array(32);
  const outView = new DataView(out.buffer);
  h.forEach((v, i) => outView.setUint32(4 * i, v));
  return out;
}

/** Exported for the tests, which compare it with node:crypto. */
export const sha256ForTests = sha256;
