/**
 * npm run serve:widget -- [--port 4174] [--host 127.0.0.1] [--dir dist/widget]   (--help: every option)
 *
 * Serves the built widget folder as a CDN would have to, so that a portal on another origin can
 * embed it: `Access-Control-Allow-Origin: *` and `Cross-Origin-Resource-Policy: cross-origin` on
 * every file, the right `Content-Type` for .js/.mjs (text/javascript), .wasm (application/wasm),
 * .json and .onnx, `X-Content-Type-Options: nosniff`, and caching (hashed chunks for a year; the
 * entry script, the runtime and the model revalidated with their ETag). The headers are the ones
 * the example portal's widget origin sends (`widgetHeaders` in scripts/lib/embed-servers.ts).
 */
import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { defineCommand, portNumber, requireDir, runCli } from './lib/cli';
import { serveWidgetFolder, WIDGET_DIST } from './lib/embed-servers';
import { originOf } from './lib/static-files';

const DEFAULT_PORT = 4174;

const command = defineCommand({
  command: 'npm run serve:widget --',
  summary: `Serves the built widget folder (dist/widget/, from \`npm run build\`) with the headers an origin that other
    sites embed it from must send: CORS (Access-Control-Allow-Origin: *), Cross-Origin-Resource-Policy: cross-origin,
    the right Content-Type for .js/.mjs/.wasm/.json/.onnx, and caching headers. Stop it with Ctrl-C.`,
  options: {
    port: { type: 'string', value: 'N', defaultText: `$PORT, else ${DEFAULT_PORT}`, description: 'the port (0: any free port)' },
    host: { type: 'string', value: 'HOST', default: '127.0.0.1', description: 'the address to listen on (0.0.0.0: every interface)' },
    dir: { type: 'string', value: 'DIR', default: relative(process.cwd(), WIDGET_DIST) || 'dist/widget', description: 'the folder served' },
  },
  notes: ['The script tag is then <script type="module" src="http://HOST:PORT/banking-intent-widget.js"></script>.'],
  examples: ['npm run serve:widget', 'npm run serve:widget -- --port 8080', 'PORT=8080 npm run serve:widget -- --host 0.0.0.0'],
});

runCli(async () => {
  const { values } = command.parse();
  const port =
    values.port !== undefined
      ? portNumber(values.port, '--port', DEFAULT_PORT, true)
      : portNumber(process.env.PORT || undefined, 'PORT', DEFAULT_PORT, true);
  const dir = resolve(values.dir);
  requireDir(values.dir, '--dir');
  if (!existsSync(join(dir, 'banking-intent-widget.js')))
    console.warn(`warning: ${values.dir} has no banking-intent-widget.js: is it a built widget folder? (npm run build)`);
  const server = await serveWidgetFolder({ port, host: values.host, dir }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'EADDRINUSE') throw new Error(`port ${port} is already in use: choose another with --port N`);
    throw error;
  });
  console.log(`Serving ${values.dir} on ${originOf(server)}/  (widget: ${originOf(server)}/banking-intent-widget.js)`);
  const stop = () => server.close(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
});
