/**
 * npm run classify -- [--model custom|llama-qlora|vllm|gemini] [--fallback a,b] [--json] [--top K] "text" ...
 *   On the device: --model-dir DIR (custom), --llama-dir DIR (llama-qlora; default public/models/llama-qlora)
 *   vLLM:   --vllm-url URL --vllm-model NAME [--vllm-mode chat|classify]   (key: VLLM_API_KEY)
 *   Gemini: --gemini-base-url URL [--gemini-model NAME]                     (key: GEMINI_API_KEY)
 *   --escalate-below 0.5 sends unsure on-device answers on to the next remote model.
 *   --oos-threshold N answers out_of_scope when the best intent's probability is below N (0-1;
 *     0 = never; default: the threshold stored with each on-device model).
 *   --oos-escalate sends on-device out_of_scope answers on to the next remote model (off by
 *     default: "not banking" is an answer, and the text stays on the device).
 * An out-of-scope message prints intent out_of_scope; its top lists the closest banking intents.
 * With no texts, reads one message per line from standard input. Prints one line per input.
 * Arguments of any size work (above 16 KB they are passed to a child process on standard input).
 */
import { parseArgs } from 'node:util';
import { toWireError } from '../src/core/errors';
import { OUT_OF_SCOPE } from '../src/core/labels';
import type { Prediction } from '../src/core/prediction';
import { cliArguments, positiveInt, readStdinLines, runCli } from './lib/cli';
import { PIPELINE_FLAGS, runtimeFromFlags } from './lib/runtime';

runCli(async () => {
  const args = await cliArguments();
  if (!args) return; // too large for this process's command line: a child process has answered
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { ...PIPELINE_FLAGS, json: { type: 'boolean', default: false }, top: { type: 'string' } },
  });
  const texts = positionals.length > 0 ? positionals : await readStdinLines();
  if (texts.length === 0) throw new Error('nothing to classify: pass messages as arguments or one per line on standard input');
  const topK = positiveInt(values.top, 'top', 5);
  const runtime = runtimeFromFlags(values);
  let failed = 0;
  for (const text of texts) {
    try {
      const p = await runtime.classify(text, { topK });
      process.stdout.write((values.json ? JSON.stringify(p) : describe(p)) + '\n');
    } catch (error) {
      failed++;
      const wire = toWireError(error);
      const line = values.json
        ? JSON.stringify({ error: { code: wire.code, message: wire.message, ...(wire.attempts ? { attempts: wire.attempts } : {}) } })
        : `error: ${wire.message}`;
      process.stdout.write(line + '\n');
    }
  }
  await runtime.dispose();
  if (failed > 0) process.exitCode = 1;
});

function describe(p: Prediction): string {
  // For out_of_scope `top` holds the closest intents; otherwise top[0] is the intent itself.
  const outOfScope = p.intent === OUT_OF_SCOPE;
  const others =
    (outOfScope ? 'closest: ' : '') +
    (outOfScope ? p.top : p.top.slice(1))
      .slice(0, 2)
      .map((t) => `${t.intent} ${t.score.toFixed(3)}`)
      .join(', ');
  const notes = [
    p.truncated && 'truncated',
    p.masked && 'personal data masked',
    p.fallback_from.length > 0 && `after ${p.fallback_from.join(', ')} failed`,
    p.escalated_from && `escalated from ${p.escalated_from}`,
  ].filter(Boolean);
  return `${p.intent}\t${p.confidence.toFixed(3)}\t(${others})\t${p.model}/${p.device} ${p.latency_ms.toFixed(1)} ms${notes.length ? '\t' + notes.join('; ') : ''}`;
}
