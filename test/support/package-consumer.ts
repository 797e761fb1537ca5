/**
 * The npm package as a stranger gets it: `npm pack` of this repository (already built by
 * `npm run build`), installed with `npm install <tarball>` into a fresh project under the system's
 * temporary folder, outside this repository. Used by test/e2e/package-install.test.ts.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** What `npm pack` must find built (by `npm run build`, or `npm run build:package`). */
const BUILT = ['dist/node/index.js', 'dist/widget/browser.js', 'dist/widget/banking-intent-widget.js', 'dist/types/runtime/node.d.ts'];

/**
 * The environment for a child `npm`: `npm test` exports `npm_config_*` and friends (the local
 * prefix among them, which would make `npm install` in the temporary project install into this
 * repository), so none of them is passed on.
 */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(key) || key === 'INIT_CWD') continue;
    env[key] = value;
  }
  return { ...env, npm_config_update_notifier: 'false', ...extra };
}

export interface Run {
  stdout: string;
  stderr: string;
}

/** Runs a command; rejects with its output when it fails or outlives `timeoutMs`. */
export function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<Run> {
  return new Promise((done, fail) => {
    execFile(
      command,
      args,
      { cwd: options.cwd, env: options.env ?? cleanEnv(), timeout: options.timeoutMs ?? 120_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) fail(new Error(`${command} ${args.join(' ')} failed in ${options.cwd}: ${error.message}\n${stdout}\n${stderr}`));
        else done({ stdout, stderr });
      },
    );
  });
}

export interface PackedPackage {
  tarball: string;
  /** Bytes of the .tgz. */
  size: number;
  unpackedSize: number;
  files: string[];
}

/** `npm pack` of the built package into a new temporary folder (scripts skipped: the build already ran). */
export async function packPackage(): Promise<PackedPackage> {
  const missing = BUILT.filter((file) => !existsSync(resolve(ROOT, file)));
  if (missing.length > 0) throw new Error(`Not built: ${missing.join(', ')}. Run \`npm run build\` first (npm test does).`);
  const destination = mkdtempSync(join(tmpdir(), 'banking-intent-pack-'));
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', destination], { cwd: ROOT });
  const [info] = JSON.parse(stdout) as { filename: string; size: number; unpackedSize: number; files: { path: string }[] }[];
  if (!info) throw new Error(`npm pack printed no package: ${stdout}`);
  return {
    tarball: join(destination, info.filename),
    size: info.size,
    unpackedSize: info.unpackedSize,
    files: info.files.map((f) => f.path),
  };
}

/** A new npm project outside this repository with the tarball installed; returns its folder. */
export async function installConsumer(tarball: string): Promise<string> {
  const app = mkdtempSync(join(tmpdir(), 'banking-intent-consumer-'));
  const env = cleanEnv({ ONNXRUNTIME_NODE_INSTALL: 'skip' });
  await run('npm', ['init', '-y'], { cwd: app, env });
  await run('npm', ['install', tarball, '--no-audit', '--no-fund', '--prefer-offline'], { cwd: app, env, timeoutMs: 150_000 });
  return app;
}
