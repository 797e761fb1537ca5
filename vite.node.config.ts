/**
 * The package's Node entry (`import { createIntentRuntime } from 'banking-intent-runtime'` in
 * Node): src/runtime/node.ts built for Node into `dist/node/index.js`, with every dependency left
 * as an import (onnxruntime-node, @google/genai, ...: the package's `dependencies`; the Llama's
 * @huggingface/transformers, an optional peer, is imported only when llama-qlora is used). The
 * model is not copied: the entry reads the widget build's `dist/widget/models/custom/`, so the
 * package holds one copy. `npm run build:package` runs it with the other package builds.
 */
import { defineConfig } from 'vite';

export default defineConfig({
  publicDir: false,
  build: {
    outDir: 'dist/node',
    emptyOutDir: true,
    target: 'node20',
    ssr: 'src/runtime/node.ts',
    minify: false,
    rollupOptions: { output: { format: 'es', entryFileNames: 'index.js', chunkFileNames: '[name]-[hash].js' } },
  },
  ssr: { target: 'node' },
});
