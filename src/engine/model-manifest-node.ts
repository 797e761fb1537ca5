/**
 * `manifest.json` for a model folder on disk (Node only): which files it covers, writing it, and
 * checking a folder against it. Used by `npm run models:manifest` and by the code that writes
 * model folders after training, so a folder is never left with a stale manifest.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { MODEL_MANIFEST_FILE, parseModelManifest, serializeModelManifest, type ModelManifest } from './model-manifest';

/**
 * Files of a folder that no runtime loads: the manifest itself, documentation, training records
 * (rewritten after the weights, e.g. when a model card is regenerated), the benchmark's probe set, leftovers of an
 * interrupted write, hidden files. Everything else is covered, so a new file a runtime needs is
 * covered without anyone remembering to add it.
 */
function isCovered(path: string): boolean {
  const name = path.split('/').pop()!;
  if (path === MODEL_MANIFEST_FILE || name.startsWith('.')) return false;
  if (/\.(md|partial)$/i.test(name)) return false;
  // probe-set.json (benchmark probes, written with a trained model or later) carries its own hash in its id.
  return name !== 'training-report.json' && name !== 'training.json' && name !== 'probe-set.json';
}

/** The files the manifest of `dir` covers, relative to it with `/`, sorted. */
export function listModelFiles(dir: string): string[] {
  const files: string[] = [];
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) files.push(relative(dir, path).split(sep).join('/'));
    }
  };
  walk(dir);
  return files.filter(isCovered).sort();
}

/** The manifest the files of `dir` have now. */
function computeModelManifest(dir: string): ModelManifest {
  const files: ModelManifest['files'] = {};
  for (const path of listModelFiles(dir)) {
    const bytes = readFileSync(join(dir, path));
    files[path] = { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.byteLength };
  }
  return { version: 1, files };
}

/** Writes `dir/manifest.json` for the files there now; call it after the last model file is written. */
export function writeModelManifest(dir: string): ModelManifest {
  const manifest = computeModelManifest(dir);
  writeFileSync(join(dir, MODEL_MANIFEST_FILE), serializeModelManifest(manifest));
  return manifest;
}

/** What differs between `dir` and its manifest, one line per file; empty when they agree. */
export function checkModelManifest(dir: string): string[] {
  const path = join(dir, MODEL_MANIFEST_FILE);
  if (!existsSync(path)) return [`${MODEL_MANIFEST_FILE} is missing`];
  let stored: ModelManifest;
  try {
    stored = parseModelManifest(readFileSync(path));
  } catch (error) {
    return [(error as Error).message];
  }
  const actual = computeModelManifest(dir);
  const problems: string[] = [];
  for (const [file, want] of Object.entries(stored.files)) {
    const got = actual.files[file];
    if (!got) problems.push(`${file}: listed in the manifest but missing`);
    else if (got.bytes !== want.bytes) problems.push(`${file}: ${got.bytes} bytes, the manifest says ${want.bytes}`);
    else if (got.sha256 !== want.sha256) problems.push(`${file}: sha256 ${got.sha256}, the manifest says ${want.sha256}`);
  }
  for (const file of Object.keys(actual.files)) {
    if (!stored.files[file]) problems.push(`${file}: not in the manifest`);
  }
  return problems;
}
