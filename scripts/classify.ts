/**
 * npm run classify -- [--model custom] [--model-dir DIR] [--json] [--top K] "text" ...
 * With no texts, reads one message per line from standard input. Prints one line per input.
 */
import { parseArgs } from 'node:util';
import { toWireError } from '../src/core/errors';
import type { Prediction } from '../src/core/prediction';
import { loadNodeClassifier } from './lib/classifiers';
import { positiveInt, readStdinLines, runCli } from './lib/cli';

runCli(async () => {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      model: { type: 'string', default: 'custom' },
      'model-dir': { type: 'string' },
      json: { type: 'boolean', default: false },
      top: { type: 'string' },
    },
  });
  const texts = positionals.length > 0 ? positionals : await readStdinLines();
  if (texts.length === 0) throw new Error('nothing to classify: pass messages as arguments or one per line on standard input');
  const topK = positiveInt(values.top, 'top', 5);
  const engine = await loadNodeClassifier(values.model, values['model-dir']);
  let failed = 0;
  for (const text of texts) {
    try {
      const p = await engine.classify(text, topK);
      process.stdout.write((values.json ? JSON.stringify(p) : describe(p)) + '\n');
    } catch (error) {
      failed++;
      const wire = toWireError(error);
      process.stdout.write(
        (values.json ? JSON.stringify({ error: { code: wire.code, message: wire.message } }) : `error: ${wire.message}`) + '\n',
      );
    }
  }
  await engine.dispose();
  if (failed > 0) process.exitCode = 1;
});

function describe(p: Prediction): string {
  const others = p.top
    .slice(1, 3)
    .map((t) => `${t.intent} ${t.score.toFixed(3)}`)
    .join(', ');
  return `${p.intent}\t${p.confidence.toFixed(3)}\t(${others})\t${p.model}/${p.device} ${p.latency_ms.toFixed(1)} ms${p.truncated ? '\ttruncated' : ''}`;
}
