/**
 * npm run models:manifest [-- --check] [DIR ...]
 *
 * Writes `manifest.json` (SHA-256 and size of every file a runtime loads, see
 * src/engine/model-manifest-node.ts) in each model folder: by default every folder under
 * public/models/. `--check` writes nothing: it compares each folder with its manifest, prints
 * what differs and exits 1 when anything does (for CI, or before a release).
 *
 * The training scripts write the manifest themselves; run this after changing a model file by hand.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { checkModelManifest, writeModelManifest } from '../src/engine/model-manifest-node';
import { defineCommand, requireDir, runCli } from './lib/cli';

const MODELS_ROOT = 'public/models';

const command = defineCommand({
  command: 'npm run models:manifest --',
  summary: `Writes manifest.json (SHA-256 and size of every file a runtime loads) in each model folder: by default every
    folder under public/models/. With --check it writes nothing: it compares each folder with its manifest, prints
    what differs and exits 1 when anything does. Run it after changing a model file by hand.`,
  positionals: { usage: '[DIR ...]', description: 'model folders (default: every folder under public/models/)' },
  options: {
    check: { type: 'boolean', default: false, description: 'compare instead of writing; exit 1 when a folder differs' },
  },
  examples: ['npm run models:manifest', 'npm run models:manifest -- --check', 'npm run models:manifest -- models/my-bank'],
});

runCli(async () => {
  const { values, positionals } = command.parse();
  const dirs = positionals.length
    ? positionals
    : readdirSync(MODELS_ROOT, { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => join(MODELS_ROOT, entry.name));
  for (const dir of dirs) requireDir(dir, 'model folder');

  if (!values.check) {
    for (const dir of dirs) {
      const manifest = writeModelManifest(dir);
      console.log(`${join(dir, 'manifest.json')}: ${Object.keys(manifest.files).join(', ')}`);
    }
    return;
  }
  let failed = false;
  for (const dir of dirs) {
    const problems = checkModelManifest(dir);
    if (problems.length === 0) {
      console.log(`${dir}: ok`);
      continue;
    }
    failed = true;
    for (const problem of problems) console.log(`${dir}: ${problem}`);
  }
  if (failed) {
    console.log('Restore the files, or run `npm run models:manifest` if the change was deliberate.');
    process.exitCode = 1;
  }
});
