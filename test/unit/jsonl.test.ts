import { describe, expect, it } from 'vitest';
import { exportJsonl, JsonlParseError, mergeRounds, parseJsonl, roundIdentity } from '../../src/bench/jsonl';
import type { BenchmarkRound } from '../../src/bench/round';

/** A round as `runBenchmarkRound` writes it: one model answered, one unavailable. */
function round(timestamp: string, requestCount: number, trigger: BenchmarkRound['trigger'] = 'auto'): BenchmarkRound {
  return {
    timestamp,
    request_count: requestCount,
    trigger,
    probe_set: { id: 'b77-test-2x77-oos-0123456789ab', n: 188 },
    models: {
      custom: {
        status: 'ok',
        device: 'webgpu',
        n: 3,
        avg_latency_ms: 2,
        p50_latency_ms: 2,
        p95_latency_ms: 2.9,
        p99_latency_ms: 2.98,
        accuracy: 2 / 3,
        in_scope_accuracy: 1 / 2,
        oos_rejected: 1,
        in_scope_rejected: 1 / 2,
        n_in_scope: 2,
        n_oos: 1,
        mean_confidence: 0.81,
        errors: 0,
        latencies_ms: [1, 2, 3],
      },
      gemini: {
        status: 'unavailable',
        device: null,
        n: 0,
        avg_latency_ms: null,
        p50_latency_ms: null,
        p95_latency_ms: null,
        p99_latency_ms: null,
        accuracy: null,
        in_scope_accuracy: null,
        oos_rejected: null,
        in_scope_rejected: null,
        n_in_scope: 0,
        n_oos: 0,
        mean_confidence: null,
        errors: 0,
        reason: 'Gemini needs a proxy URL or an API key.',
      },
    },
    summary: {
      fastest_model: 'custom',
      most_accurate_model: 'custom',
      recommendation: 'Use custom: the most accurate (66.7%) and the fastest (p50 2.00 ms).',
    },
    environment: {
      user_agent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/140',
      webgpu: { vendor: 'nvidia', architecture: 'hopper', description: '' },
      hardware_concurrency: 16,
    },
  };
}

const A = round('2025-01-01T10:00:00.000Z', 50);
const B = round('2025-01-01T11:00:00.000Z', 100);
const C = round('2025-01-01T11:30:00.000Z', 100, 'manual');

describe('JSONL export and import', () => {
  it('writes one JSON object per line with a trailing newline, and reads the same rounds back', () => {
    const text = exportJsonl([A, B, C]);
    expect(text.endsWith('}\n')).toBe(true);
    expect(text.split('\n')).toHaveLength(4);
    expect(JSON.parse(text.split('\n')[1]!)).toEqual(B);
    expect(parseJsonl(text)).toEqual([A, B, C]);
    expect(exportJsonl([])).toBe('');
  });

  it('accepts CRLF line endings and blank lines', () => {
    expect(parseJsonl(`\r\n${JSON.stringify(A)}\r\n\r\n${JSON.stringify(B)}\r\n`)).toEqual([A, B]);
  });

  it('names every invalid line by its number and imports nothing from a bad file', () => {
    const { summary: _summary, ...noSummary } = B;
    const text = [
      JSON.stringify(A),
      '{"timestamp": "2025-01-01T10:00:00.000Z", "request_count": 5',
      '',
      JSON.stringify(noSummary),
      JSON.stringify({ ...C, trigger: 'cron' }),
      JSON.stringify({ ...C, models: { custom: { ...C.models.custom, accuracy: 'high' } } }),
      '[1, 2]',
    ].join('\n');
    let error: unknown;
    try {
      parseJsonl(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(JsonlParseError);
    const errors = (error as JsonlParseError).errors;
    expect(errors.map((e) => e.line)).toEqual([2, 4, 5, 6, 7]);
    expect(errors[0]!.message).toMatch(/not valid JSON/);
    expect(errors[1]!.message).toMatch(/summary/);
    expect(errors[2]!.message).toMatch(/trigger/);
    expect(errors[3]!.message).toMatch(/models\.custom\.accuracy/);
    expect(errors[4]!.message).toMatch(/expected a JSON object/);
    expect((error as Error).message).toMatch(/^Not a benchmark results file: line 2: not valid JSON/);
  });

  it('reads rounds recorded before the out-of-scope fields existed, and refuses those fields when malformed', () => {
    // A line as rounds were exported before the probe set had out-of-scope probes.
    const { in_scope_accuracy, oos_rejected, in_scope_rejected, n_in_scope, n_oos, ...oldCustom } = A.models.custom!;
    expect([in_scope_accuracy, oos_rejected, in_scope_rejected, n_in_scope, n_oos]).not.toContain(undefined);
    const old: BenchmarkRound = { ...A, probe_set: { id: 'b77-test-2x77-ad27f648f655', n: 154 }, models: { custom: oldCustom } };
    expect(parseJsonl(exportJsonl([old, B]))).toEqual([old, B]);

    const bad = (fields: Record<string, unknown>) => JSON.stringify({ ...B, models: { custom: { ...B.models.custom, ...fields } } });
    let error: unknown;
    try {
      parseJsonl([bad({ oos_rejected: '90%' }), bad({ n_oos: -1 }), bad({ in_scope_rejected: null, n_in_scope: 0 })].join('\n'));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(JsonlParseError);
    expect((error as JsonlParseError).errors).toEqual([
      { line: 1, message: 'not a benchmark round: models.custom.oos_rejected is neither a number nor null' },
      { line: 2, message: 'not a benchmark round: models.custom.n_oos is not a whole number >= 0' },
    ]);
  });

  it('merges imported rounds without duplicates, keeping the existing ones first and in order', () => {
    const imported = parseJsonl(exportJsonl([B, C, C, A]));
    const merged = mergeRounds([A, B], imported);
    expect(merged).toEqual([A, B, C]);
    expect(mergeRounds(merged, imported)).toEqual(merged);
    // The same time and count with another trigger is another round.
    expect(roundIdentity(B)).not.toBe(roundIdentity({ ...B, trigger: 'manual' }));
    expect(mergeRounds([], [A, { ...A }])).toEqual([A]);
  });
});
