/**
 * The example portal on http://127.0.0.1:4173 embedding the built widget from
 * http://127.0.0.1:4174 (another origin), with the strict CSP: `npm run example:widget`.
 * `--port N` (or PORT=N) moves the portal, `--widget-port N` (or WIDGET_PORT=N) the widget; the
 * portal's page and its CSP are rewritten to the widget's actual origin. `--help` lists the options.
 */
import { defineCommand, portNumber, runCli } from './lib/cli';
import { serveEmbedExample } from './lib/embed-servers';

const command = defineCommand({
  command: 'npm run example:widget --',
  summary: `Serves the example online-banking portal (examples/portal.html) on one origin and the built widget
    (dist/widget/) on another, with the portal's strict Content-Security-Policy and the CORS headers a CDN would
    send, as a bank would embed it. Needs \`npm run build\` first. Stop it with Ctrl-C.`,
  options: {
    port: { type: 'string', value: 'N', defaultText: '$PORT, else 4173', description: 'the portal port (0: any free port)' },
    'widget-port': {
      type: 'string',
      value: 'N',
      defaultText: '$WIDGET_PORT, else the portal port + 1 (4174)',
      description: 'the widget port (0: any free port)',
    },
  },
  examples: ['npm run example:widget', 'npm run example:widget -- --port 5000', 'PORT=8080 WIDGET_PORT=8081 npm run example:widget'],
});

runCli(async () => {
  const { values } = command.parse();
  const fromFlagOrEnv = (flag: 'port' | 'widget-port', env: string, fallback: number) =>
    values[flag] !== undefined
      ? portNumber(values[flag], `--${flag}`, fallback, true)
      : portNumber(process.env[env] || undefined, env, fallback, true);
  const portal = fromFlagOrEnv('port', 'PORT', 4173);
  const widget = fromFlagOrEnv('widget-port', 'WIDGET_PORT', portal === 0 ? 0 : portal + 1);
  const servers = await serveEmbedExample({ portal, widget }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'EADDRINUSE')
      throw new Error(`port ${(error as { port?: number }).port ?? ''} is already in use: choose others with --port N --widget-port M`);
    throw error;
  });
  console.log(`Portal: ${servers.portalOrigin}/portal.html  (widget served from ${servers.widgetOrigin})`);
});
