import { defaultClientConditions, defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';
import { viteStaticCopy } from 'vite-plugin-static-copy';
import { envGuard } from './scripts/lib/env-guard.js';
import { ortRuntimeBytesDefine } from './scripts/lib/ort-runtime-bytes.js';
import { precompress } from './scripts/lib/precompress.js';
import { ISOLATION_HEADERS } from './scripts/lib/static-files.js';
import { ORT_RUNTIME_FILES } from './src/sw/runtime-files.js';

/**
 * The one onnxruntime-web runtime (the version transformers.js pins, which this project pins too,
 * so npm installs one copy), served from our own origin under `/ort/`, never from a CDN, so the
 * site also works offline. Each build loads its Emscripten glue with a dynamic `import()` once
 * `env.wasm.wasmPaths` is set, and then its WebAssembly binary:
 * - `onnxruntime-web/wasm` (the custom model where there is no WebGPU): the plain pair, 14.2 MB;
 * - `onnxruntime-web/webgpu` (the custom model on WebGPU, and transformers.js for the Llama): the
 *   asyncify pair, 26.8 MB.
 * A browser downloads only the pair it uses (workers/custom.worker.ts). The list: src/sw/runtime-files.ts.
 */
export const ORT_RUNTIME = [...ORT_RUNTIME_FILES.wasm, ...ORT_RUNTIME_FILES.webgpu];

/** The preview server's port: `PORT` when set (1-65535), else 4173. */
function previewPort(value: string | undefined): number {
  if (value === undefined || value === '') return 4173;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`PORT must be a port number (1-65535), got "${value}"`);
  return port;
}

/** The custom model is 3.4 MB; Workbox skips files over 2 MB unless told otherwise. */
const MAX_PRECACHE_BYTES = 64 * 1024 * 1024;

export default defineConfig({
  // Deploy under a sub-path with e.g. `BASE_PATH=/intent/ npm run build`; the app and the worker
  // read it back as `import.meta.env.BASE_URL`.
  base: process.env.BASE_PATH ?? '/',
  worker: { format: 'es' },
  // The runtime files' sizes, so that the load's progress counts the runtime from its first report
  // (src/engine/runtime-bytes.ts).
  define: ortRuntimeBytesDefine(),
  resolve: {
    // `onnxruntime-web/webgpu` then resolves to ort.webgpu.min.mjs, which loads its runtime only
    // from `wasmPaths`. The default (`ort.webgpu.bundle.min.mjs`) embeds the glue and references
    // the .wasm with `new URL(…, import.meta.url)`, so Vite would emit a second 26 MB copy into
    // assets/ (and the service worker would precache both).
    conditions: ['onnxruntime-web-use-extern-wasm', ...defaultClientConditions],
  },
  // Pre-bundling rewrites `import.meta.url` inside onnxruntime-web; it is loaded as shipped (and
  // transformers.js too, so that its nested onnxruntime-web resolves like in the build).
  optimizeDeps: { exclude: ['onnxruntime-web', '@huggingface/transformers'] },
  build: { target: 'es2022', chunkSizeWarningLimit: 1024 },
  // `npm start` / `npm run preview`: PORT=5000 or `npm start -- --port 5000` serve elsewhere.
  // Cross-origin isolated, so that the model's WebAssembly runs on several threads (ISOLATION_HEADERS).
  preview: { host: '127.0.0.1', port: previewPort(process.env.PORT), headers: ISOLATION_HEADERS },
  server: { headers: ISOLATION_HEADERS },
  plugins: [
    envGuard(),
    // .br/.gz copies of the large files, sent by `vite preview` (npm start) to browsers that take them.
    precompress(),
    viteStaticCopy({
      targets: [...ORT_RUNTIME.map((file) => ({ src: `node_modules/onnxruntime-web/dist/${file}`, dest: 'ort' }))],
    }),
    VitePWA({
      registerType: 'autoUpdate',
      // Registered from src/ui/main.ts, which also reports when the site is ready offline.
      injectRegister: false,
      manifest: {
        name: 'Banking intent classifier',
        short_name: 'Intents',
        description: 'Classifies a customer message into one of the 77 Banking77 intents, in the browser.',
        theme_color: '#1f4e79',
        background_color: '#f5f7fa',
        display: 'standalone',
        icons: [{ src: 'favicon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' }],
      },
      // Our own service worker (src/sw/sw.ts): Workbox's precache and routes as before, but the
      // model files are checked against their folder's manifest.json each time they are served,
      // so a broken cached copy is replaced instead of being served forever. Still built to sw.js.
      strategies: 'injectManifest',
      srcDir: 'src/sw',
      filename: 'sw.ts',
      injectManifest: {
        // The app shell, the custom model's files in /models/custom/ and
        // the Llama's q4 files in /models/llama-qlora/ (those two handled by src/sw/model-files.ts).
        // The plugin adds the web manifest and its icon (favicon.svg) itself.
        globPatterns: ['**/*.{html,js,mjs,css,wasm,json,onnx}'],
        globIgnores: [
          '**/node_modules/**/*',
          // dist/widget/ is the embeddable widget for other origins (vite.widget.config.ts), not
          // part of this site: precaching it would double the download.
          'widget/**',
          // The Llama's fp32 reference: browsers load model_q4.onnx.
          'models/llama-qlora/onnx/model.onnx',
          // Training records: no page loads them.
          'models/*/training-report.json',
          // The runtime's WebAssembly: a device needs one of the two (14 or 27 MB). Kept in a cache
          // of its own once used (src/sw/sw.ts), rather than both downloaded by every visitor. Its
          // small glue files (.mjs) are precached: their revisions name that cache.
          'ort/*.wasm',
        ],
        maximumFileSizeToCacheInBytes: MAX_PRECACHE_BYTES,
      },
    }),
  ],
});
