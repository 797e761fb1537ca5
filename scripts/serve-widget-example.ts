/**
 * The example portal on http://127.0.0.1:4173 embedding the built widget from
 * http://127.0.0.1:4174 (another origin), with the strict CSP: `npm run example:widget`.
 */
import { serveEmbedExample } from './lib/embed-servers';

const servers = await serveEmbedExample({ portal: 4173, widget: 4174 });
console.log(`Portal: ${servers.portalOrigin}/portal.html  (widget served from ${servers.widgetOrigin})`);
