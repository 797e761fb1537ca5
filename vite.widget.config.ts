/**
 * The embeddable widget as a library build: `dist/widget/` holds `banking-intent-widget.js` (an
 * ES module), its chunks and worker under `assets/`, the ORT runtime under `ort/` and the model
 * under `models/custom/`. Every URL inside is relative to the script (`base: './'`), so the
 * folder can be copied as is to a CDN or any other origin. Runs after the site build (whose
 * `emptyOutDir` would otherwise remove it): `npm run build`.
 */
import { defaultClientConditions, defineConfig } from 'vite';
import { viteStaticCopy } from 'vite-plugin-static-copy';
import { envGuard } from './scripts/lib/env-guard.js';
import { ORT_RUNTIME } from './vite.config.js';

// manifest.json too: the engine refuses a model folder without it (src/engine/model-manifest.ts).
const MODEL_FILES = ['config.json', 'tokenizer.json', 'model.onnx', 'manifest.json'];

export default defineConfig({
  base: './',
  // The model is copied below: the site's public/ (favicon, reports) is not the widget's.
  publicDir: false,
  worker: { format: 'es' },
  resolve: { conditions: ['onnxruntime-web-use-extern-wasm', ...defaultClientConditions] },
  build: {
    outDir: 'dist/widget',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 1024,
    lib: {
      entry: 'src/widget/banking-intent-widget.ts',
      formats: ['es'],
      fileName: () => 'banking-intent-widget.js',
    },
  },
  plugins: [
    envGuard(),
    viteStaticCopy({
      targets: [
        ...ORT_RUNTIME.map((file) => ({ src: `node_modules/onnxruntime-web/dist/${file}`, dest: 'ort' })),
        ...MODEL_FILES.map((file) => ({ src: `public/models/custom/${file}`, dest: 'models/custom' })),
      ],
    }),
  ],
});
