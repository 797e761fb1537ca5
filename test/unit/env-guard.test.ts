/**
 * The build's env guard (scripts/lib/env-guard.ts): a `VITE_*` value holding a URL with
 * credentials stops the build with a message naming the variable, never the secret. (Keys set
 * under other names are covered by bundle-secrets.test.ts: they must build, and stay out.)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'vite';
import { afterEach, describe, expect, it } from 'vitest';
import { checkBuildEnv, envGuard } from '../../scripts/lib/env-guard';

const SECRET = 'S3CRET-0123456789';

describe('checkBuildEnv', () => {
  it.each([
    ['VITE_VLLM_URL', `https://svc:${SECRET}@vllm.bank.test`, 'a user name or password before the host'],
    ['VITE_VLLM_URL', `https://${SECRET}@vllm.bank.test/v1`, 'a user name or password before the host'],
    ['VITE_GEMINI_BASE_URL', `https://proxy.bank.test/v1beta?key=${SECRET}`, 'the query parameter "key"'],
    ['VITE_GEMINI_BASE_URL', `https://proxy.bank.test/?alt=json&API_KEY=${SECRET}`, 'the query parameter "API_KEY"'],
    ['VITE_HANDOFF_URL', `https://help.bank.test/chat?access_token=${SECRET}`, 'the query parameter "access_token"'],
    ['VITE_HANDOFF_URL', `https://help.bank.test/chat#token=${SECRET}`, 'the fragment parameter "token"'],
    ['VITE_OTHER', `first https://a.test, then https://b.test/?sig=${SECRET}`, 'the query parameter "sig"'],
  ])('refuses %s = a URL with %s', (variable, value, what) => {
    const problems = checkBuildEnv({ [variable]: value, VITE_MODEL: 'custom' });
    expect(problems).toHaveLength(1);
    const [problem] = problems;
    expect(problem).toMatchObject({ variable, severity: 'error' });
    expect(problem!.message).toContain(`${variable} holds a URL with credentials in it (${what})`);
    expect(problem!.message).toMatch(/proxy.*"Remote models" panel/);
    expect(problem!.message).not.toContain(SECRET);
  });

  it('lets ordinary settings through, and variables without the prefix', () => {
    expect(
      checkBuildEnv({
        VITE_VLLM_URL: 'https://vllm.bank.test:8443/v1?region=eu',
        VITE_GEMINI_BASE_URL: 'http://127.0.0.1:8787',
        VITE_FALLBACK: 'vllm,custom',
        VITE_HANDOFF_URL: 'mailto:help@bank.test',
        VITE_OOS_MESSAGE: 'I can only help with banking questions.',
        VLLM_URL: `https://svc:${SECRET}@vllm.bank.test`,
        PATH: '/usr/bin',
      }),
    ).toEqual([]);
  });

  it('warns about a variable named like a secret, without its value', () => {
    const problems = checkBuildEnv({ VITE_GEMINI_API_KEY: SECRET, VITE_SESSION_TOKEN: SECRET });
    expect(problems.map((p) => [p.variable, p.severity])).toEqual([
      ['VITE_GEMINI_API_KEY', 'warning'],
      ['VITE_SESSION_TOKEN', 'warning'],
    ]);
    for (const problem of problems) expect(problem.message).not.toContain(SECRET);
  });
});

describe('vite build with the guard', () => {
  const saved = { ...process.env };
  let outDir: string | undefined;
  afterEach(() => {
    process.env = { ...saved };
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  it('fails before writing anything, naming the variable and what to do, never the key', async () => {
    process.env.VITE_VLLM_URL = `https://svc:${SECRET}@vllm.bank.test`;
    outDir = mkdtempSync(join(tmpdir(), 'env-guard-'));
    const failure = await build({ logLevel: 'silent', build: { outDir, emptyOutDir: true } }).then(
      () => undefined,
      (error: unknown) => error as Error,
    );
    expect(failure).toBeInstanceOf(Error);
    expect(failure!.message).toMatch(/^Refusing to build: VITE_VLLM_URL holds a URL with credentials in it/);
    expect(failure!.message).toContain("bank's proxy");
    expect(failure!.message).not.toContain(SECRET);
  });

  it('fails when the value of a variable named like a secret reaches an output file', async () => {
    // A page of its own that reads the variable, as a careless `import.meta.env` would.
    const root = mkdtempSync(join(tmpdir(), 'env-guard-root-'));
    outDir = join(root, 'dist');
    writeFileSync(join(root, 'index.html'), '<script type="module" src="./main.js"></script>');
    writeFileSync(join(root, 'main.js'), 'console.log(import.meta.env.VITE_PARTNER_API_KEY);');
    process.env.VITE_PARTNER_API_KEY = SECRET;
    const build_ = (plugins: ReturnType<typeof envGuard>[]) =>
      build({ root, configFile: false, logLevel: 'silent', plugins, build: { outDir, emptyOutDir: true } }).then(
        () => undefined,
        (error: unknown) => error as Error,
      );
    expect(await build_([])).toBeUndefined(); // without the guard, the key ships
    const failure = await build_([envGuard()]);
    expect(failure?.message).toMatch(/the value of VITE_PARTNER_API_KEY was built into assets\/.*\.js\. Unset VITE_PARTNER_API_KEY/);
    expect(failure!.message).not.toContain(SECRET);
    rmSync(root, { recursive: true, force: true });
  });
});
