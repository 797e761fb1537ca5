/**
 * No API key in any built file: build the site with keys set in every place a careless setup
 * might put them (process env, VITE_-prefixed env, a Vite mode), then search every output file.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'vite';
import { afterAll, describe, expect, it } from 'vitest';

const CANARIES = {
  GEMINI_API_KEY: 'AIzaSy-canary-gemini-0123456789',
  VITE_GEMINI_API_KEY: 'AIzaSy-canary-vite-gemini-98765',
  VLLM_API_KEY: 'sk-canary-vllm-0123456789',
  VITE_VLLM_API_KEY: 'sk-canary-vite-vllm-98765',
};

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** Keys the test suite hands to adapters and stand-in servers: none may reach a built file either. */
const TEST_KEYS = ['test-key-123', 'test-gemini-key', 'cli-gemini-key', 'cli-vllm-key', 'secret-key'];

describe('built bundle', () => {
  const saved = { ...process.env };
  afterAll(() => {
    process.env = saved;
  });

  it.each(['production', 'gemini', 'vllm', 'qlora'])('holds no API key set in the environment at build time (mode %s)', async (mode) => {
    Object.assign(process.env, CANARIES);
    const outDir = mkdtempSync(join(tmpdir(), `dist-${mode}-`));
    await build({ mode, logLevel: 'silent', build: { outDir, emptyOutDir: true } });
    const files = filesUnder(outDir);
    expect(files.some((f) => f.endsWith('index.html'))).toBe(true);
    for (const file of files.filter((f) => !f.endsWith('.wasm') && !f.endsWith('.onnx'))) {
      const text = readFileSync(file, 'utf8');
      for (const key of [...Object.values(CANARIES), ...TEST_KEYS]) expect(text.includes(key), `${key} in ${file}`).toBe(false);
    }
  });
});
