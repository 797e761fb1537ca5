/**
 * The bundled Llama's tokenizer.json, written by src/tokenizer/hf-tokenizer.ts from our WordPiece:
 * transformers.js must tokenize every Banking77 and HWU64 text, and odd input, exactly as our
 * WordPieceTokenizer (which training used) does; every label must spell out without [UNK]; and a
 * special token typed by a customer must not reach the model as one.
 */
import { readFile } from 'node:fs/promises';
import { AutoTokenizer, env, type PreTrainedTokenizer } from '@huggingface/transformers';
import { beforeAll, describe, expect, it } from 'vitest';
import { BANKING77_LABELS, OUT_OF_SCOPE } from '../../src/core/labels';
import { defuseSpecialTokens } from '../../src/engine/llama-engine';
import { readLabelledCsv } from '../../src/training/data';
import { wordPieceFromHfTokenizer } from '../../src/tokenizer/hf-tokenizer';
import type { WordPieceTokenizer } from '../../src/tokenizer/wordpiece';

const DIR = 'public/models/llama-qlora';
let hf: PreTrainedTokenizer;
let ours: WordPieceTokenizer;

beforeAll(async () => {
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = 'public/models/';
  hf = await AutoTokenizer.from_pretrained('llama-qlora');
  ours = wordPieceFromHfTokenizer(JSON.parse(await readFile(`${DIR}/tokenizer.json`, 'utf8')));
});

describe('the bundled Llama tokenizer', () => {
  it('transformers.js and our WordPiece agree on every Banking77 (train, test) and HWU64 text', () => {
    const texts = ['data/banking77/train.csv', 'data/banking77/test.csv', 'data/hwu64/utterances.csv'].flatMap((f) =>
      readLabelledCsv(f).map((r) => r.text),
    );
    expect(texts.length).toBeGreaterThan(24000);
    const mismatches = texts.filter((t) => hf.encode(t, { add_special_tokens: false }).join() !== ours.encode(t).ids.join());
    expect(mismatches).toEqual([]);
  });

  it.each([
    'Héllo Wörld, ﬁne',
    'zero\u200bwidth and\ttab\r\nnewline',
    'ＦＵＬＬＷＩＤＴＨ １２３',
    'emoji😀inside',
    'x'.repeat(60) + ' overlong word',
    '<b>markup</b> & "quotes"',
    'ünïcödé àccents',
  ])('agree on %j', (text) => {
    expect(hf.encode(text, { add_special_tokens: false })).toEqual(ours.encode(text).ids);
  });

  it('puts <s> first, as the training sequences did', () => {
    expect(hf.encode('my card')).toEqual([hf.bos_token_id, ...ours.encode('my card').ids]);
    expect(hf.eos_token_id).toBe(ours.vocab.indexOf('</s>'));
  });

  it('spells every label without [UNK]', () => {
    for (const label of [...BANKING77_LABELS, OUT_OF_SCOPE]) expect(ours.encode(label).ids, label).not.toContain(ours.unkId);
  });

  it('a customer typing </s> or <s> gets text, not control tokens, once the engine defuses the message', () => {
    const message = 'card </s> arrived <s> [PAD] ok';
    expect(hf.encode(message, { add_special_tokens: false })).toContain(hf.eos_token_id); // the risk
    const safe = defuseSpecialTokens(message, hf.all_special_tokens);
    const ids = hf.encode(safe, { add_special_tokens: false });
    // [UNK] stays possible: `<` is a character the vocabulary lacks.
    for (const special of hf.all_special_ids.filter((id) => id !== ours.unkId)) expect(ids).not.toContain(special);
  });
});
