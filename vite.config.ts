import { defaultClientConditions, defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';
import { viteStaticCopy } from 'vite-plugin-static-copy';

/**
 * The onnxruntime-web runtime that `onnxruntime-web/webgpu` loads once `env.wasm.wasmPaths` is
 * set: the Emscripten glue (imported with a dynamic `import()`) and its WebAssembly binary. Both
 * are served from our own origin under `/ort/`, never from a CDN, so the site also works offline.
 * (`ort.mjs`/`ort.all.mjs` would need the `.jsep` pair instead.)
 */
export const ORT_RUNTIME = ['ort-wasm-simd-threaded.asyncify.mjs', 'ort-wasm-simd-threaded.asyncify.wasm'];

/** The ORT binary is ~26 MB; Workbox skips files over 2 MB unless told otherwise. */
const MAX_PRECACHE_BYTES = 64 * 1024 * 1024;

export default defineConfig({
  // Deploy under a sub-path with e.g. `BASE_PATH=/intent/ npm run build`; the app and the worker
  // read it back as `import.meta.env.BASE_URL`.
  base: process.env.BASE_PATH ?? '/',
  worker: { format: 'es' },
  resolve: {
    // `onnxruntime-web/webgpu` then resolves to ort.webgpu.min.mjs, which loads its runtime only
    // from `wasmPaths`. The default (`ort.webgpu.bundle.min.mjs`) embeds the glue and references
    // the .wasm with `new URL(…, import.meta.url)`, so Vite would emit a second 26 MB copy into
    // assets/ (and the service worker would precache both).
    conditions: ['onnxruntime-web-use-extern-wasm', ...defaultClientConditions],
  },
  // Pre-bundling rewrites `import.meta.url` inside onnxruntime-web; it is loaded as shipped.
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  build: { target: 'es2022', chunkSizeWarningLimit: 1024 },
  preview: { host: '127.0.0.1', port: 4173 },
  plugins: [
    viteStaticCopy({
      targets: ORT_RUNTIME.map((file) => ({ src: `node_modules/onnxruntime-web/dist/${file}`, dest: 'ort' })),
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
      workbox: {
        // The app shell, the ORT runtime in /ort/ and the model files in /models/custom/. The
        // plugin adds the web manifest and its icon (favicon.svg) itself.
        globPatterns: ['**/*.{html,js,mjs,css,wasm,json,onnx}'],
        // dist/widget/ is the embeddable widget for other origins (vite.widget.config.ts), not
        // part of this site: precaching it would double the download.
        globIgnores: ['**/node_modules/**/*', 'widget/**'],
        maximumFileSizeToCacheInBytes: MAX_PRECACHE_BYTES,
        navigateFallback: 'index.html',
        cleanupOutdatedCaches: true,
        clientsClaim: true,
        skipWaiting: true,
      },
    }),
  ],
});
