/**
 * npm run classify -- [--model custom|llama-qlora|vllm|gemini] [--fallback a,b] [--json] [--top K] "text" ...
 * Every option, with its default: `npm run classify -- --help` (one definition below gives the
 * parser and the help). An out-of-scope message prints intent out_of_scope; its top lists the
 * closest banking intents. With no texts, reads one message per line from standard input. Prints
 * one line per input. Arguments of any size work (above 16 KB they are passed to a child process
 * on standard input).
 */
import { checkOosThreshold } from '../src/core/config';
import { toWireError } from '../src/core/errors';
import { OUT_OF_SCOPE } from '../src/core/labels';
import type { Prediction } from '../src/core/prediction';
import { cliArguments, defineCommand, numberFlag, positiveInt, readStdinLines, runCli, UsageError } from './lib/cli';
import { PIPELINE_FLAGS, runtimeFromFlags } from './lib/runtime';

const command = defineCommand({
  command: 'npm run classify --',
  summary: `Classifies each message into a Banking77 intent (or out_of_scope) with the same runtime as the site:
    on the device (custom, llama-qlora) or through the bank's vLLM or Gemini proxy, with fallbacks and personal
    data masked before any text leaves the machine.`,
  positionals: { usage: '[MESSAGE ...]', description: 'the messages; none: one message per line on standard input' },
  options: {
    ...PIPELINE_FLAGS,
    json: { type: 'boolean', default: false, description: 'one JSON object per message (intent, confidence, top, model, device, ...)' },
    top: { type: 'string', value: 'K', default: '5', description: 'how many intents to list per message' },
  },
  notes: ['Keys come from the environment only: VLLM_API_KEY, GEMINI_API_KEY. Exit status 1 when any message failed, 2 for a usage error.'],
  examples: [
    'npm run classify -- "I still have not received my new card"',
    'npm run classify -- --json "my card got stolen" "what exchange rate do you use?"',
    "printf 'card arrived?\\nrefund please\\n' | npm run classify -- --json",
    'npm run classify -- --oos-threshold 0 "what is the weather tomorrow"',
  ],
});

runCli(async () => {
  const args = await cliArguments();
  if (!args) return; // too large for this process's command line: a child process has answered
  const { values, positionals } = command.parse(args);
  const topK = positiveInt(values.top, 'top', 5);
  checkFlags(values);
  const texts = positionals.length > 0 ? positionals : await readStdinLines();
  if (texts.length === 0) throw new UsageError('nothing to classify: pass messages as arguments or one per line on standard input');
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

/** The number flags, checked before any model loads: a bad value is a usage error naming the flag. */
function checkFlags(values: { 'oos-threshold'?: string; 'escalate-below'?: string; 'timeout-ms'?: string }): void {
  const threshold = numberFlag(values['oos-threshold']);
  if (threshold !== undefined) {
    try {
      checkOosThreshold(threshold, values['oos-threshold']);
    } catch (error) {
      throw new UsageError(`--oos-threshold: ${(error as Error).message}`);
    }
  }
  const below = numberFlag(values['escalate-below']);
  if (below !== undefined && !(below >= 0 && below <= 1))
    throw new UsageError(`--escalate-below must be a number between 0 and 1, got "${values['escalate-below']}"`);
  positiveInt(values['timeout-ms'], 'timeout-ms', 1);
}

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
