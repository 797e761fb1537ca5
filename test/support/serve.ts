/**
 * Runs a stand-in server by hand, to try the remote adapters without a vLLM deployment or a
 * Gemini key. It prints every request body it receives, so you can see what left the device.
 *
 *   npx tsx test/support/serve.ts vllm   [--port 8000] [--model banking-intent] [--api-key KEY]
 *   npx tsx test/support/serve.ts gemini [--port 8787] [--api-key KEY]
 *
 * These are test doubles of remote services: they pick labels by keyword (and answer `out_of_scope`
 * when it is offered and the message has no banking word, see not-banking.ts); they do not classify.
 */
import { parseArgs } from 'node:util';
import { startGeminiServer } from './gemini-server';
import { VllmStandIn } from './vllm-server';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { port: { type: 'string' }, model: { type: 'string', default: 'banking-intent' }, 'api-key': { type: 'string' } },
});
const kind = positionals[0];
const port = values.port === undefined ? undefined : Number(values.port);
const show = (request: { method: string; path: string; body: unknown }) =>
  console.log(`${request.method} ${request.path} ${JSON.stringify(request.body ?? '')}`);

if (kind === 'vllm') {
  const server = await VllmStandIn.start({ port: port ?? 8000, models: [values.model], apiKey: values['api-key'], cors: true });
  console.log(`vLLM stand-in on ${server.url} serving ${values.model}`);
  let seen = 0;
  setInterval(() => server.requests.slice(seen).forEach((r) => (seen++, show(r))), 200);
} else if (kind === 'gemini') {
  const server = await startGeminiServer({ port: port ?? 8787, apiKey: values['api-key'] ?? null });
  console.log(`Gemini stand-in on ${server.url}`);
  let seen = 0;
  setInterval(() => server.requests.slice(seen).forEach((r) => (seen++, show(r))), 200);
} else {
  console.error('usage: serve.ts vllm|gemini [--port N] [--model NAME] [--api-key KEY]');
  process.exit(2);
}
