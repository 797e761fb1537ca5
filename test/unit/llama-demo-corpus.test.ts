/**
 * The demo Llama's training sequences (src/training/llama/corpus.ts): the base reads each labelled
 * row as one text, the same tokens QLoRA later sees, with every token a target; QLoRA's loss covers
 * only the label. Validation rows are in neither.
 */
import { describe, expect, it } from 'vitest';
import { BANKING77_LABELS, OUT_OF_SCOPE } from '../../src/core/labels';
import { makeClmBatch } from '../../src/training/llama/train-clm';
import { promptCompletionExample } from '../../src/training/llama/train-qlora';
import { readLabelledCsv } from '../../src/training/data';
import {
  BANKING77_TRAIN,
  demoConfig,
  labelledClmExamples,
  promptCompletions,
  readLlamaCorpus,
  trainLlamaTokenizer,
} from '../../src/training/llama/corpus';
import { BASE_SETTINGS } from '../../src/training/llama/settings';

const rows = [
  { text: 'I still have not got my new card', label: 'card_arrival' },
  { text: 'Why was I charged a fee for the ATM?', label: 'cash_withdrawal_charge' },
  { text: 'my top-up failed twice: message me when it works', label: 'top_up_failed' },
  { text: 'what is the intent of this fee?', label: 'extra_charge_on_statement' },
];
const corpus = { train: rows, validation: [], outOfScope: ['wake me up at seven', 'play some jazz'] };
const tokenizer = trainLlamaTokenizer(corpus, 300);
const config = demoConfig(tokenizer);

describe('the demo Llama corpus', () => {
  it("a labelled row is `<s>` prompt, the label's pieces, `</s>`, and the same ids QLoRA trains on", () => {
    const [labelled] = labelledClmExamples(rows.slice(0, 1), tokenizer, config);
    const [pair] = promptCompletions(rows.slice(0, 1), tokenizer, config);
    expect(labelled!.ids).toEqual([...pair!.prompt, ...pair!.completion]);
    expect(labelled!.ids[0]).toBe(config.bos_token_id);
    expect(labelled!.ids.at(-1)).toBe(config.eos_token_id);
    expect(
      pair!.completion
        .slice(0, -1)
        .map((id) => tokenizer.vocab[id]!.replace(/^##/, ''))
        .join(''),
    ).toBe('card_arrival');
  });

  it('the base targets every token after the first; QLoRA only the label and `</s>`', () => {
    const [labelled] = labelledClmExamples(rows.slice(0, 1), tokenizer, config);
    const [pair] = promptCompletions(rows.slice(0, 1), tokenizer, config);
    const baseTargets = makeClmBatch([labelled!], config.pad_token_id).targets[0]!;
    const qloraTargets = makeClmBatch([promptCompletionExample(pair!)], config.pad_token_id).targets[0]!;
    expect(baseTargets).toEqual(labelled!.ids.map((_, t) => (t > 0 ? 1 : 0)));
    expect(qloraTargets.reduce((a, b) => a + b, 0)).toBe(pair!.completion.length);
    expect(qloraTargets.slice(pair!.prompt.length)).toEqual(pair!.completion.map(() => 1));
  });

  it('every Banking77 label and out_of_scope spell out in known pieces', () => {
    const all = [...BANKING77_LABELS, OUT_OF_SCOPE].map((label) => ({ text: 'x', label }));
    expect(() => labelledClmExamples(all, tokenizer, config)).not.toThrow();
  });

  it("the validation split is carved from train's rows and none of its rows is trained on", () => {
    const { train, validation } = readLlamaCorpus(BASE_SETTINGS);
    expect(train.length + validation.length).toBe(readLabelledCsv(BANKING77_TRAIN).length);
    const trained = new Set(train);
    expect(validation.some((r) => trained.has(r))).toBe(false);
    expect(validation.length).toBeGreaterThan(900);
  });
});
