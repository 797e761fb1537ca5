/**
 * The npm package in a project that is not this one: `npm pack`, then `npm install <tarball>` in a
 * fresh folder under the system's temporary folder. There it must classify in Node, type-check in
 * TypeScript (Node and bundler resolution), and work in a plain Vite app (`createIntentRuntime`
 * and `<banking-intent-widget>`, built with `vite build`, in Chromium) and in a page without a
 * bundler that imports the package's folder as served. Needs `npm run build` first (npm test
 * runs it). The README's "Use it in your app" shows these same snippets.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { createServer, preview, type PreviewServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cleanEnv, installConsumer, packPackage, ROOT, run, type PackedPackage } from '../support/package-consumer';
import { CARD_MESSAGE, launchChromium, newContext } from './harness';

const TSC = resolve(ROOT, 'node_modules/typescript/bin/tsc');
const VITE = resolve(ROOT, 'node_modules/vite/bin/vite.js');

let packed: PackedPackage;
let app: string;

beforeAll(async () => {
  packed = await packPackage();
  app = await installConsumer(packed.tarball);
  console.log(
    `banking-intent-runtime tarball: ${(packed.size / 1e6).toFixed(1)} MB, ` +
      `${(packed.unpackedSize / 1e6).toFixed(1)} MB unpacked, ${packed.files.length} files; consumer in ${app}`,
  );
}, 200_000);

afterAll(() => {
  // The consumer holds ~400 MB (onnxruntime-node ships every platform's binaries).
  if (process.env.KEEP_PACKAGE_CONSUMER) return;
  if (app) rmSync(app, { recursive: true, force: true });
  if (packed) rmSync(dirname(packed.tarball), { recursive: true, force: true });
});

describe('the packed package', () => {
  test('holds the built entries, types, one ORT runtime and one model, and nothing from the repository', () => {
    const files = packed.files;
    for (const file of [
      'package.json',
      'README.md',
      'dist/node/index.js',
      'dist/widget/browser.js',
      'dist/widget/banking-intent-widget.js',
      'dist/types/runtime/node.d.ts',
      'dist/types/runtime/browser.d.ts',
      'dist/types/widget/banking-intent-widget.d.ts',
      'dist/widget/models/custom/onnx/model.onnx',
      'dist/widget/models/custom/manifest.json',
      'dist/widget/models/custom/MODEL_CARD.md',
      'data/banking77/LICENSE',
    ]) {
      expect(files, file).toContain(file);
    }
    expect(files.filter((file) => file.endsWith('.wasm')).sort()).toEqual([
      'dist/widget/ort/ort-wasm-simd-threaded.asyncify.wasm',
      'dist/widget/ort/ort-wasm-simd-threaded.wasm',
    ]);
    expect(files.filter((file) => file.endsWith('.onnx'))).toEqual(['dist/widget/models/custom/onnx/model.onnx']);
    expect(
      files.filter((file) => !/^(dist\/(node|widget|types)\/|data\/[a-z0-9]+\/LICENSE$|package\.json$|README\.md$)/.test(file)),
    ).toEqual([]);
    expect(packed.size).toBeLessThan(16e6);
  });

  test('the Node entry imports only Node built-ins and the packages it declares', () => {
    const manifest = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      peerDependencies?: Record<string, string>;
    };
    const declared = new Set([...Object.keys(manifest.dependencies), ...Object.keys(manifest.peerDependencies ?? {})]);
    const dir = resolve(ROOT, 'dist/node');
    const imported = new Set<string>();
    for (const file of readdirSync(dir).filter((name) => name.endsWith('.js'))) {
      const text = readFileSync(join(dir, file), 'utf8');
      // The build is not minified: static imports start a line; dynamic ones are `import("x")`.
      const statics = text.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s*["']([^"'\s]+)["'];?$|^import\s*["']([^"'\s]+)["'];?$/gm);
      const dynamics = text.matchAll(/\bimport\(\s*["']([^"'\s]+)["']\s*\)/g);
      for (const match of [...statics, ...dynamics]) {
        const specifier = match[1] ?? match[2]!;
        if (!specifier.startsWith('.')) imported.add(specifier);
      }
    }
    const packageName = (specifier: string) =>
      specifier
        .split('/')
        .slice(0, specifier.startsWith('@') ? 2 : 1)
        .join('/');
    const undeclared = [...imported].filter(
      (specifier) => !specifier.startsWith('node:') && !builtinModules.includes(specifier) && !declared.has(packageName(specifier)),
    );
    expect(imported.has('onnxruntime-node')).toBe(true);
    expect(undeclared).toEqual([]);
  });
});

describe('installed in a project outside this repository', () => {
  test('Node: `import { createIntentRuntime } from "banking-intent-runtime"` classifies with the bundled model', async () => {
    writeFileSync(
      join(app, 'classify.mjs'),
      [
        "import { createIntentRuntime } from 'banking-intent-runtime';",
        '',
        'const runtime = createIntentRuntime();',
        `const prediction = await runtime.classify(${JSON.stringify(CARD_MESSAGE)});`,
        'console.log(prediction.intent, prediction.confidence.toFixed(2), prediction.device);',
        'await runtime.dispose();',
        '',
      ].join('\n'),
    );
    const { stdout } = await run(process.execPath, ['classify.mjs'], { cwd: app, timeoutMs: 60_000 });
    expect(stdout.trim()).toMatch(/^card_arrival (0\.\d\d|1\.00) cpu$/);
  });

  test('TypeScript: the declarations resolve, under Node (nodenext) and bundler resolution', async () => {
    writeFileSync(
      join(app, 'node-check.mts'),
      [
        "import { createIntentRuntime, IntentError, type Prediction, type RuntimeProgress } from 'banking-intent-runtime';",
        "const runtime = createIntentRuntime({ modelDir: './model', fallback: ['vllm'], vllm: { url: 'http://127.0.0.1:8000', model: 'm' } });",
        'const seen: RuntimeProgress[] = [];',
        'await runtime.load(undefined, { onProgress: (p) => seen.push(p) });',
        "const prediction: Prediction = await runtime.classify('hello', { topK: 3 });",
        'const confidence: number = prediction.confidence;',
        '// @ts-expect-error a message is a string (were the types `any`, this line would be an error)',
        'await runtime.classify(42);',
        'console.log(confidence, seen.length, IntentError.name);',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(app, 'browser-check.ts'),
      [
        "import { createIntentRuntime, type Prediction } from 'banking-intent-runtime';",
        "import 'banking-intent-runtime/widget';",
        "const runtime = createIntentRuntime({ modelBaseUrl: '/models/custom/', ortBaseUrl: '/ort/', device: 'wasm' });",
        "const prediction: Prediction = await runtime.classify('hello');",
        '// @ts-expect-error modelDir is a Node option',
        "createIntentRuntime({ modelDir: 'x' });",
        "const widget = document.createElement('banking-intent-widget');",
        "widget.addEventListener('banking-intent:result', (event) => console.log(event.detail.intent, prediction.intent));",
        'export {};',
        '',
      ].join('\n'),
    );
    const common = { target: 'es2022', strict: true, noEmit: true, skipLibCheck: false, types: [] };
    const configs = {
      'tsconfig.node.json': {
        compilerOptions: { ...common, module: 'nodenext', moduleResolution: 'nodenext', lib: ['es2023', 'dom'] },
        files: ['node-check.mts'],
      },
      'tsconfig.browser.json': {
        compilerOptions: { ...common, module: 'esnext', moduleResolution: 'bundler', lib: ['es2023', 'dom', 'dom.iterable'] },
        files: ['browser-check.ts'],
      },
    };
    for (const [name, config] of Object.entries(configs)) {
      writeFileSync(join(app, name), JSON.stringify(config));
      await run(process.execPath, [TSC, '-p', name], { cwd: app, timeoutMs: 90_000 });
    }
  });

  describe('in the browser', () => {
    let server: PreviewServer | undefined;
    let browser: Browser;
    let origin: string;

    beforeAll(async () => {
      // What the README tells a Vite user to do: host the model and the ORT runtime (here: public/).
      mkdirSync(join(app, 'public'), { recursive: true });
      execFileSync(
        'sh',
        ['-c', 'cp -r node_modules/banking-intent-runtime/dist/widget/ort node_modules/banking-intent-runtime/dist/widget/models public/'],
        { cwd: app },
      );
      // A page without a bundler: the package's folder served as is, defaults only.
      cpSync(join(app, 'node_modules/banking-intent-runtime/dist/widget'), join(app, 'public/vendor/banking-intent-runtime'), {
        recursive: true,
      });
      writeFileSync(join(app, 'public/plain.html'), PLAIN_PAGE);
      mkdirSync(join(app, 'src'), { recursive: true });
      writeFileSync(join(app, 'index.html'), VITE_PAGE);
      writeFileSync(join(app, 'src/main.js'), VITE_MAIN);
      await run(process.execPath, [VITE, 'build'], { cwd: app, env: cleanEnv(), timeoutMs: 120_000 });
      server = await preview({
        root: app,
        configFile: false,
        logLevel: 'warn',
        preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false },
      });
      const address = server.httpServer.address();
      if (!address || typeof address === 'string') throw new Error('The preview server has no TCP address.');
      origin = `http://127.0.0.1:${address.port}`;
      browser = await launchChromium({ webgpu: false });
    }, 180_000);

    afterAll(async () => {
      await browser?.close();
      await server?.close();
    });

    async function open(path: string): Promise<{ page: Page; problems: string[] }> {
      const page = await (await newContext(browser)).newPage();
      const problems: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(`console: ${message.text()}`);
      });
      page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
      page.on('response', (response) => {
        if (response.status() >= 400) problems.push(`HTTP ${response.status()} ${response.url()}`);
      });
      await page.goto(origin + path);
      return { page, problems };
    }

    test('a Vite app built with `vite build`: createIntentRuntime answers card_arrival, with progress, and the widget answers', async () => {
      const { page, problems } = await open('/');
      const answer = page.locator('#answer[data-intent]');
      await answer.waitFor({ state: 'attached', timeout: 60_000 }).catch(() => undefined);
      expect(await answer.getAttribute('data-intent'), problems.join('\n')).toBe('card_arrival');
      const progress = JSON.parse((await answer.getAttribute('data-progress')) ?? '[]') as {
        status: string;
        file: string;
        total: number;
        progress: number;
      }[];
      // One download for the model and its runtime, its total known from the first report.
      const downloads = progress.filter((p) => p.status === 'progress' && /^downloading/.test(p.file));
      expect(downloads.length, JSON.stringify(progress.slice(0, 3))).toBeGreaterThan(0);
      expect(downloads[0]!.total).toBeGreaterThan(14_000_000);
      expect(progress.at(-1)).toMatchObject({ status: 'ready', progress: 100 });

      const widget = page.locator('banking-intent-widget');
      await widget.getByRole('textbox', { name: 'Message', exact: true }).fill('my card got stolen');
      await widget.getByRole('button', { name: 'Classify', exact: true }).click();
      await widget.locator('[part="answer"][data-intent]').waitFor({ timeout: 60_000 });
      expect(await widget.locator('[part="answer"]').getAttribute('data-intent'), problems.join('\n')).toBe('lost_or_stolen_card');
      expect(await page.locator('#widget-event').getAttribute('data-intent')).toBe('lost_or_stolen_card');
      expect(problems).toEqual([]);
      await page.context().close();
    });

    test('the same app under the Vite dev server (no Vite config): createIntentRuntime answers card_arrival', async () => {
      let dev: ViteDevServer | undefined;
      try {
        dev = await createServer({
          root: app,
          configFile: false,
          logLevel: 'warn',
          server: { host: '127.0.0.1', port: 0, strictPort: false },
        });
        await dev.listen();
        const address = dev.httpServer?.address();
        if (!address || typeof address === 'string') throw new Error('The dev server has no TCP address.');
        const page = await (await newContext(browser)).newPage();
        const problems: string[] = [];
        page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
        // The first visit may reload once, when Vite has pre-bundled the package.
        await page.goto(`http://127.0.0.1:${address.port}/`);
        const answer = page.locator('#answer[data-intent]');
        await answer.waitFor({ state: 'attached', timeout: 90_000 }).catch(() => undefined);
        expect(await answer.getAttribute('data-intent'), problems.join('\n')).toBe('card_arrival');
        await page.context().close();
      } finally {
        await dev?.close();
      }
    });

    test('a page without a bundler imports browser.js from the served package folder; the defaults find the model and runtime', async () => {
      const { page, problems } = await open('/plain.html');
      const answer = page.locator('#answer[data-intent]');
      await answer.waitFor({ state: 'attached', timeout: 60_000 }).catch(() => undefined);
      expect(await answer.getAttribute('data-intent'), problems.join('\n')).toBe('card_arrival');
      expect(problems).toEqual([]);
      await page.context().close();
    });
  });
});

/** The Vite app's page: the widget pointed at the hosted files, and the app's own script. */
const VITE_PAGE = `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8" /><link rel="icon" href="data:," /><title>A bank's app</title></head>
  <body>
    <p id="answer"></p>
    <p id="widget-event"></p>
    <banking-intent-widget models-base="/models/custom/" ort-base="/ort/"></banking-intent-widget>
    <script type="module" src="/src/main.js"></script>
  </body>
</html>
`;

const VITE_MAIN = `import { createIntentRuntime } from 'banking-intent-runtime';
import 'banking-intent-runtime/widget';

document.addEventListener('banking-intent:result', (event) => {
  document.querySelector('#widget-event').dataset.intent = event.detail.intent;
});

const runtime = createIntentRuntime({ modelBaseUrl: '/models/custom/', ortBaseUrl: '/ort/' });
const progress = [];
await runtime.load(undefined, { onProgress: ({ status, file, loaded, total, progress: percent }) => progress.push({ status, file, loaded, total, progress: percent }) });
const prediction = await runtime.classify(${JSON.stringify(CARD_MESSAGE)});
const answer = document.querySelector('#answer');
answer.dataset.progress = JSON.stringify(progress);
answer.dataset.intent = prediction.intent;
`;

const PLAIN_PAGE = `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8" /><link rel="icon" href="data:," /><title>No bundler</title></head>
  <body>
    <p id="answer"></p>
    <script type="module">
      import { createIntentRuntime } from '/vendor/banking-intent-runtime/browser.js';
      const runtime = createIntentRuntime();
      const prediction = await runtime.classify(${JSON.stringify(CARD_MESSAGE)});
      document.querySelector('#answer').dataset.intent = prediction.intent;
    </script>
  </body>
</html>
`;
