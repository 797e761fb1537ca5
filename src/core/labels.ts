/**
 * The 77 Banking77 intents, in the publisher's order. Vendored once from PolyAI's data set
 * (CC BY 4.0, see data/banking77/LICENSE); every other part of the project reads them from here
 * or from a trained model's config, never from a copy.
 */
import categories from '../../data/banking77/categories.json';

export const BANKING77_LABELS: readonly string[] = Object.freeze([...categories]);

/**
 * The reserved answer "none of the intents": small talk, another domain, gibberish. Never one of a
 * model's in-scope labels; rows with this label in a training CSV are negative examples.
 */
export const OUT_OF_SCOPE = 'out_of_scope';
