/**
 * The embeddable widget and the package's browser entry as one library build: `dist/widget/` holds
 * `banking-intent-widget.js` (registers the element; `banking-intent-runtime/widget`) and
 * `browser.js` (`createIntentRuntime`; the package's browser entry), ES modules sharing their
 * chunks, the worker under `assets/`, the ORT runtime under `ort/` and the model under
 * `models/custom/`: one copy of each, for the widget, the package and the Node entry
 * (vite.node.config.ts), which reads the model from here. Every URL inside is relative to the
 * script (`base: './'`), so the folder can be copied as is to a CDN or any other origin. Runs
 * after the site build (whose `emptyOutDir` would otherwise remove it): `npm run build`.
 */
import { defaultClientConditions, defineConfig } from 'vite';
import { viteStaticCopy } from 'vite-plugin-static-copy';
import { envGuard } from './scripts/lib/env-guard.js';
import { ortRuntimeBytesDefine } from './scripts/lib/ort-runtime-bytes.js';
import { precompress } from './scripts/lib/precompress.js';
import { ORT_RUNTIME } from './vite.config.js';

// The whole folder (src/models/custom/folder-node.ts), so that the package's copy loads in
// transformers.js too: tokenizer_config.json is for transformers.js only. manifest.json too: the
// engine refuses a model folder without it (src/engine/model-manifest.ts). MODEL_CARD.md says
// what the model was trained on (and the data's licences): it ships with it.
const MODEL_FILES = [
  'config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'spelling.json',
  'onnx/model.onnx',
  'manifest.json',
  'MODEL_CARD.md',
];

export default defineConfig({
  base: './',
  // The model is copied below: the site's public/ (favicon, reports) is not the widget's.
  publicDir: false,
  // One self-contained worker file: an app that bundles the package copies the worker by its
  // `new URL(…, import.meta.url)` and nothing it imports, so both onnxruntime-web builds' glue
  // (~30 KB with Brotli) goes inside it; their WebAssembly stays in ort/, fetched per device.
  worker: { format: 'es', rolldownOptions: { output: { inlineDynamicImports: true } } },
  // The runtime files' sizes for the load's progress (src/engine/runtime-bytes.ts).
  define: ortRuntimeBytesDefine(),
  resolve: { conditions: ['onnxruntime-web-use-extern-wasm', ...defaultClientConditions] },
  build: {
    outDir: 'dist/widget',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 1024,
    lib: {
      entry: { 'banking-intent-widget': 'src/widget/banking-intent-widget.ts', browser: 'src/runtime/browser.ts' },
      formats: ['es'],
      fileName: (_format, entryName) => `${entryName}.js`,
    },
  },
  plugins: [
    envGuard(),
    // .br/.gz copies for `npm run serve:widget` and hosts that send them (left out of the npm package).
    precompress(),
    viteStaticCopy({
      targets: [
        ...ORT_RUNTIME.map((file) => ({ src: `node_modules/onnxruntime-web/dist/${file}`, dest: 'ort' })),
        ...MODEL_FILES.map((file) => ({
          src: `public/models/custom/${file}`,
          dest: ['models/custom', ...file.split('/').slice(0, -1)].join('/'),
        })),
      ],
    }),
  ],
});
