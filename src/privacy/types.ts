/** What every recogniser implements, in the spirit of Microsoft Presidio's `EntityRecognizer`. */
import type { TextScan } from './scan';

/** One piece of personal data, as offsets into the normalised text. */
export interface Finding {
  start: number;
  end: number;
  /** The category reported and shown in the placeholder: `card` is replaced by `[CARD]`. */
  category: string;
}

export interface Recogniser {
  /** A short name for the recogniser (one recogniser may report several categories). */
  readonly name: string;
  /** Words it wants to be told about: found once for all recognisers, in `scan.hits(name)`. */
  readonly keywords?: readonly string[];
  /**
   * Appends what it finds in `text` (the normalised text) to `out`, working from `scan` (where
   * the digits and its keywords are) rather than scanning the text again. Must run in linear time.
   */
  find(text: string, out: Finding[], scan: TextScan): void;
}
