/**
 * Trains the ensemble's members in parallel child processes (the WASM backend is single-threaded
 * in Node, so one process per core), and caches each finished member on disk keyed by a hash of
 * everything that determines it: an interrupted run resumes, a changed setting retrains.
 */
import { fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NamedWeights } from '../models/custom/model';
import type { TrainMemberOptions, TrainMemberResult } from './train-member';
import { TrainingError } from '../core/errors';

export type MemberJob = Omit<TrainMemberOptions, 'log'>;

export interface MemberOutcome extends TrainMemberResult {
  seed: number;
  wallSeconds: number;
  cached: boolean;
}

const WORKER = fileURLToPath(new URL('./member-process.ts', import.meta.url));

export async function trainMembers(
  jobs: MemberJob[],
  options: { cacheDir: string; parallel: number; log: (line: string) => void },
): Promise<MemberOutcome[]> {
  mkdirSync(options.cacheDir, { recursive: true });
  const results: MemberOutcome[] = new Array(jobs.length);
  let next = 0;
  const runNext = async (): Promise<void> => {
    while (next < jobs.length) {
      const index = next++;
      const job = jobs[index]!;
      const file = join(options.cacheDir, `member-${hashJob(job)}.json`);
      if (existsSync(file)) {
        results[index] = { ...readMember(file), cached: true };
        options.log(`seed ${job.seed}: reusing ${file}`);
        continue;
      }
      const started = performance.now();
      const result = await runInChild(job, options.log);
      const outcome = { ...result, seed: job.seed, wallSeconds: (performance.now() - started) / 1000, cached: false };
      writeMember(file, outcome);
      results[index] = outcome;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.parallel) }, runNext));
  return results;
}

function runInChild(job: MemberJob, log: (line: string) => void): Promise<TrainMemberResult> {
  return new Promise((resolve, reject) => {
    const child = fork(WORKER, [], {
      execArgv: ['--import', 'tsx'],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.on(
      'message',
      (message: { type: 'log'; line: string } | { type: 'done'; result: TrainMemberResult } | { type: 'error'; message: string }) => {
        if (message.type === 'log') log(message.line);
        else if (message.type === 'done') resolve(message.result);
        else reject(new TrainingError(`member seed ${job.seed} failed: ${message.message}`));
      },
    );
    child.on('exit', (code) => {
      if (code !== 0) reject(new TrainingError(`member seed ${job.seed}: training process exited with code ${code}`));
    });
    child.send(job);
  });
}

function hashJob(job: MemberJob): string {
  return createHash('sha256').update(JSON.stringify(job)).digest('hex').slice(0, 16);
}

interface StoredMember extends Omit<MemberOutcome, 'weights' | 'cached'> {
  weights: Record<string, { shape: number[]; data: string }>;
}

function writeMember(file: string, outcome: MemberOutcome): void {
  const weights: StoredMember['weights'] = {};
  for (const [name, w] of Object.entries(outcome.weights)) {
    weights[name] = { shape: w.shape, data: Buffer.from(w.data.buffer, w.data.byteOffset, w.data.byteLength).toString('base64') };
  }
  const { cached: _cached, ...rest } = outcome;
  writeFileSync(file, JSON.stringify({ ...rest, weights } satisfies StoredMember));
}

function readMember(file: string): Omit<MemberOutcome, 'cached'> {
  const stored = JSON.parse(readFileSync(file, 'utf8')) as StoredMember;
  const weights: NamedWeights = {};
  for (const [name, w] of Object.entries(stored.weights)) {
    const bytes = Buffer.from(w.data, 'base64');
    weights[name] = { shape: w.shape, data: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)) };
  }
  return { ...stored, weights };
}
