/**
 * A trie over the token ids of a fixed set of labels, for decoding that can only produce a label.
 *
 * Each label is stored as the ids it has where it would follow the prompt, then the EOS id: the EOS
 * step is what lets a label that is a prefix of another ("bill" and "bill payment") end, and it is
 * the token that stops generation. Pure TypeScript (no transformers.js), so the browser worker and
 * Node share it.
 */
import { ModelFormatError } from '../core/errors';

interface TrieNode {
  children: Map<number, TrieNode>;
  /** Set on the node reached by a label's last id followed by EOS. */
  label?: string;
}

export interface TokenizedLabel {
  label: string;
  /** The label's token ids as they appear after the prompt, without EOS. */
  ids: number[];
}

export class LabelTrie {
  private readonly root: TrieNode = { children: new Map() };
  /** The most ids any label takes, EOS included: the `max_new_tokens` that always reaches the end. */
  readonly maxLength: number;

  constructor(
    labels: readonly TokenizedLabel[],
    readonly eosTokenId: number,
  ) {
    if (labels.length === 0) throw new ModelFormatError('LabelTrie needs at least one label');
    let maxLength = 0;
    for (const { label, ids } of labels) {
      if (ids.length === 0) throw new ModelFormatError(`label ${JSON.stringify(label)} has no tokens`);
      if (ids.includes(eosTokenId)) throw new ModelFormatError(`label ${JSON.stringify(label)} contains the EOS token`);
      let node = this.root;
      for (const id of [...ids, eosTokenId]) {
        let child = node.children.get(id);
        if (!child) node.children.set(id, (child = { children: new Map() }));
        node = child;
      }
      if (node.label !== undefined)
        throw new ModelFormatError(`labels ${JSON.stringify(node.label)} and ${JSON.stringify(label)} tokenize identically`);
      node.label = label;
      maxLength = Math.max(maxLength, ids.length + 1);
    }
    this.maxLength = maxLength;
  }

  private walk(ids: readonly number[]): TrieNode | undefined {
    let node: TrieNode | undefined = this.root;
    for (const id of ids) {
      node = node.children.get(id);
      if (!node) return undefined;
    }
    return node;
  }

  /** The ids that may follow `prefix` on the way to some label (EOS where a label ends); [] when `prefix` leads to none. */
  allowedNext(prefix: readonly number[]): number[] {
    return [...(this.walk(prefix)?.children.keys() ?? [])];
  }

  /**
   * The label spelled by `ids` (generated ids after the prompt). The EOS that ends the label may be
   * there or not; anything after the first EOS (padding of a finished batch row) is ignored.
   * Undefined when `ids` spell no whole label.
   */
  labelFor(ids: readonly number[]): string | undefined {
    const end = ids.indexOf(this.eosTokenId);
    const body = end === -1 ? ids : ids.slice(0, end);
    return this.walk([...body, this.eosTokenId])?.label;
  }
}
