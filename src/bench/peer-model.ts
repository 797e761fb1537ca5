/**
 * A speed peer for the benchmark: an encoder classifier with the shapes of distilbert-base
 * (6 layers, hidden 768, 12 heads, feed-forward 3072, WordPiece vocabulary 30,522, 512 positions)
 * and 77 outputs, int8 weights, random values. Only its speed and size are measured, so random
 * weights are as good as trained ones: the same shapes do the same arithmetic.
 *
 * It is our own architecture (`exportEnsembleToOnnx`, one member from `initWeights`) at DistilBERT's
 * sizes, so it has the same graph inputs and outputs as the shipped model and runs through the same
 * engine code. Where it differs from DistilBERT, the difference is not in the matrix products,
 * which are nearly all the time:
 *   - DistilBERT is post-LN (LayerNorm after each residual add) with GELU-erf; ours is pre-LN with
 *     GELU-tanh. Same number of LayerNorms per block, same FLOPs, a few element-wise ops apart.
 *   - DistilBERT normalises the embeddings and classifies [CLS] through a 768x768 pre-classifier;
 *     ours normalises at the end and classifies the mean over tokens. About 1.2 MFLOP per query
 *     (the pre-classifier), against about 85 MFLOP per token for the encoder.
 *   - Parameters: 66.4M here, 67.0M in DistilBERT (the pre-classifier and the embedding LayerNorm).
 */
import type { CustomModelConfig, EncoderShape } from '../models/custom/config';
import { countParameters, initWeights } from '../models/custom/model';
import { exportEnsembleToOnnx } from '../models/custom/onnx-export';
import type { WordPieceJson } from '../tokenizer/wordpiece';
import type { ModelSource } from '../engine/model-source';
import { ModelFormatError } from '../core/errors';

/** The shapes of distilbert-base-uncased, with a 77-way classification head (bench-node widens it to our model's labels). */
export const DISTILBERT_SHAPE: EncoderShape = {
  vocabSize: 30522,
  maxTokens: 512,
  dModel: 768,
  heads: 12,
  layers: 6,
  ffn: 3072,
  numLabels: 77,
};

export interface PeerModel {
  shape: EncoderShape;
  /** The ONNX file: int8 matrices behind DequantizeLinear, per output channel, as our export writes them. */
  bytes: Uint8Array;
  parameters: number;
  /** Wall time to draw the weights, quantise them and serialise the graph. */
  buildMs: number;
}

/** Builds the peer in memory: for DistilBERT's shapes 4-5 s and about 0.6 GB peak RSS on our 2-core dev box. */
export function buildPeerModel(shape: EncoderShape = DISTILBERT_SHAPE, seed = 1): PeerModel {
  const started = performance.now();
  const bytes = exportEnsembleToOnnx({
    shape,
    members: [initWeights(shape, seed)],
    temperature: 1,
    weights: 'int8',
    metadata: { purpose: 'speed peer with random weights; its predictions mean nothing' },
  });
  return { shape, bytes, parameters: countParameters(shape), buildMs: performance.now() - started };
}

/**
 * The peer as model files that `CustomEngine` loads, so it is timed through exactly the code path
 * of our model: our tokenizer, padded with `[unusedN]` entries to the peer's vocabulary size (the
 * engine checks that the two agree; the padding entries contain brackets, which the pre-tokeniser
 * always splits off, so they never match and the token ids are ours), our labels, one member.
 */
export function peerSource(peer: PeerModel, base: { config: CustomModelConfig; tokenizer: WordPieceJson }): ModelSource {
  const { vocab } = base.tokenizer;
  if (vocab.length > peer.shape.vocabSize) {
    throw new ModelFormatError(`the tokenizer has ${vocab.length} tokens, more than the peer's vocabulary of ${peer.shape.vocabSize}`);
  }
  if (base.config.labels.length !== peer.shape.numLabels) {
    throw new ModelFormatError(`the peer has ${peer.shape.numLabels} outputs but there are ${base.config.labels.length} labels`);
  }
  const padded = [...vocab, ...Array.from({ length: peer.shape.vocabSize - vocab.length }, (_, i) => `[unused${i}]`)];
  // Our own tokenizer format, with the word list inside: no spelling.json for the peer.
  const files = { model: base.config.files.model, tokenizer: base.config.files.tokenizer };
  const config: CustomModelConfig = { ...base.config, ...peer.shape, members: 1, temperature: 1, weights: 'int8', files };
  const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
  const contents = new Map<string, Uint8Array>([
    ['config.json', json(config)],
    [config.files.tokenizer, json({ ...base.tokenizer, vocab: padded } satisfies WordPieceJson)],
    [config.files.model, peer.bytes],
  ]);
  return {
    location: 'memory:peer',
    async read(file, options = {}) {
      const bytes = contents.get(file);
      if (!bytes) throw new ModelFormatError(`the peer has no file ${file}`);
      options.onProgress?.({ file, loaded: bytes.byteLength, total: bytes.byteLength });
      return bytes;
    },
  };
}
