/**
 * Which probe set a round uses, and which models it may be sent to.
 *
 * The probe set follows the labels of the round's reference model (the active one, when the round
 * probes it): the bundled Banking77 set for a model whose intents are Banking77's, the model's own
 * set (`probe-set.json` in its folder, drawn from its held-out rows: see probe-draw.ts) for one
 * retrained on a bank's own intents. When neither fits, the round is refused with a message that
 * names the mismatch: a bank's model is never scored on questions about intents it does not have.
 *
 * Every other model in the round is probed only if its labels cover the probe set's intents (a
 * remote model constrained to Banking77's labels cannot answer a bank's own); otherwise it is in
 * the record as unavailable, saying why.
 */
import { ConfigError } from '../core/errors';
import { OUT_OF_SCOPE } from '../core/labels';
import { PROBE_SET_FILE } from './probe-hash';
import { PROBE_SET, verifyProbeSet, type ProbeSet } from './probe-set';

/** The round cannot be run on a probe set that fits the model: which labels, which set, and what to do. */
export class ProbeSetMismatchError extends ConfigError {
  static override readonly kind: string = 'ProbeSetMismatchError';
  /** The model whose labels the probe set must fit. */
  readonly model: string;
  /** Probe set intents the model cannot answer. */
  readonly missing: readonly string[];
  constructor(options: { message: string; model: string; missing: readonly string[] }) {
    super({ message: options.message });
    this.name = 'ProbeSetMismatchError';
    this.model = options.model;
    this.missing = options.missing;
  }
}

/** The probe set's in-scope intents, sorted (`out_of_scope` is every model's answer, so never one of them). */
export function probeIntents(set: Pick<ProbeSet, 'items'>): string[] {
  return [...new Set(set.items.map((item) => item.label).filter((label) => label !== OUT_OF_SCOPE))].sort();
}

/** The probe set's intents that `labels` lacks: empty when a model with these labels can answer every probe. */
export function missingIntents(labels: readonly string[], set: Pick<ProbeSet, 'items'>): string[] {
  const known = new Set(labels);
  return probeIntents(set).filter((label) => !known.has(label));
}

/** Whether a model's in-scope labels are exactly the probe set's intents. */
export function sameIntents(labels: readonly string[], set: Pick<ProbeSet, 'items'>): boolean {
  const own = [...new Set(labels.filter((label) => label !== OUT_OF_SCOPE))].sort();
  const probed = probeIntents(set);
  return own.length === probed.length && own.every((label, i) => label === probed[i]);
}

/**
 * A probe set read from a file (a model folder's `probe-set.json`): checked field by field, then
 * against its own id (`verifyProbeSet`). `where` names the file in errors.
 */
export async function parseProbeSet(value: unknown, where: string): Promise<ProbeSet> {
  const fail = (what: string) => new ConfigError(`${where} is not a probe set: ${what}.`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fail('expected a JSON object');
  const { id, n, source, seed, items } = value as Record<string, unknown>;
  if (typeof id !== 'string' || id === '') throw fail('it has no id');
  if (!Array.isArray(items) || items.length === 0) throw fail('it has no items');
  for (const [index, item] of items.entries()) {
    const { text, label } = (item ?? {}) as Record<string, unknown>;
    if (typeof text !== 'string' || typeof label !== 'string' || text === '' || label === '')
      throw fail(`item ${index + 1} needs a text and a label`);
  }
  const set: ProbeSet = {
    id,
    n: typeof n === 'number' ? n : items.length,
    source: typeof source === 'string' ? source : where,
    seed: typeof seed === 'number' ? seed : 0,
    items: (items as { text: string; label: string }[]).map(({ text, label }) => ({ text, label })),
  };
  await verifyProbeSet(set);
  return set;
}

/** What the round knows of its reference model when it chooses. */
export interface ProbeReference {
  /** Its id, for messages. */
  id: string;
  /** Its labels (with or without `out_of_scope`); undefined when it does not say (then the default applies). */
  labels?: readonly string[];
  /** Reads the probe set shipped with its model (parsed JSON), or undefined when there is none. */
  ownProbeSet?: () => Promise<unknown>;
}

export interface ChooseProbeSetOptions {
  /** A fixed probe set (code and tests that bring their own): it must fit the reference's labels. */
  fixed?: ProbeSet;
  /** The set for a model with Banking77's intents. Default the bundled one. */
  bundled?: ProbeSet;
}

/**
 * The probe set for a round whose reference model is `reference`:
 *  - a fixed one when given (refused when the model cannot answer all its intents);
 *  - the bundled set when the model's intents are exactly its intents, or the model does not say;
 *  - else the model's own probe set, when it has one that it can answer;
 *  - else a `ProbeSetMismatchError` saying which labels differ and how to get a probe set.
 */
export async function chooseProbeSet(reference: ProbeReference, options: ChooseProbeSetOptions = {}): Promise<ProbeSet> {
  const bundled = options.bundled ?? PROBE_SET;
  const labels = reference.labels;
  if (options.fixed) {
    const missing = labels ? missingIntents(labels, options.fixed) : [];
    if (missing.length > 0) throw mismatch(reference.id, labels!, options.fixed, missing, 'fixed');
    return options.fixed;
  }
  if (!labels || sameIntents(labels, bundled)) return bundled;

  const raw = await reference.ownProbeSet?.();
  if (raw !== undefined) {
    const own = await parseProbeSet(raw, `The ${PROBE_SET_FILE} of ${reference.id}`);
    const missing = missingIntents(labels, own);
    if (missing.length > 0) throw mismatch(reference.id, labels, own, missing, 'own');
    return own;
  }
  throw mismatch(reference.id, labels, bundled, missingIntents(labels, bundled), 'none');
}

function mismatch(
  model: string,
  labels: readonly string[],
  set: ProbeSet,
  missing: readonly string[],
  kind: 'fixed' | 'own' | 'none',
): ProbeSetMismatchError {
  const intents = labels.filter((label) => label !== OUT_OF_SCOPE);
  const theirs = `${model} has ${intents.length} ${intents.length === 1 ? 'intent' : 'intents'} (${sample(intents)})`;
  const gap =
    missing.length > 0
      ? `${missing.length} of the probe set's ${probeIntents(set).length} intents are not among them (${sample(missing)})`
      : `it has intents the probe set's ${probeIntents(set).length} do not cover (${sample(intents.filter((l) => !probeIntents(set).includes(l)))})`;
  const fix =
    `Retrain it with npm run train, which writes ${PROBE_SET_FILE} from its held-out rows next to the model, ` +
    `or write one with npm run probe-set -- --model-dir DIR --data HELD-OUT.csv.`;
  const message =
    kind === 'own'
      ? `Cannot benchmark ${model} on its own ${PROBE_SET_FILE} (${set.id}): ${gap}: the file is not this model's. ${fix}`
      : kind === 'fixed'
        ? `Cannot benchmark ${model} on probe set ${set.id}: ${theirs}, and ${gap}.`
        : `Cannot benchmark ${model} on the Banking77 probe set (${set.id}): ${theirs}, not Banking77's ${probeIntents(set).length}; ${gap}. ` +
          `Its model folder has no ${PROBE_SET_FILE} of its own. ${fix}`;
  return new ProbeSetMismatchError({ message, model, missing });
}

/** `a, b, c` or `a, b, c, … and 12 more`. */
function sample(labels: readonly string[], shown = 6): string {
  if (labels.length <= shown) return labels.join(', ');
  return `${labels.slice(0, shown).join(', ')}, … and ${labels.length - shown} more`;
}
