/**
 * What the site tells the user about where a message goes. The gate that keeps a remote model
 * it may not use from receiving anything is the runtime's (src/runtime/consent-gate.ts).
 *
 * A remote model is allowed when the runtime config allows it (src/core/config.ts: the build's
 * env, or the "Remote models" panel) or the user chose it in the Model list. A configured remote
 * model that is not allowed sits behind a `ConsentGate`: it loads nothing and answers nothing
 * (benchmark rounds included) until then. The URL parameters cannot put it in the chain at all.
 */
import { isRemoteModel, remoteConfigured, type RemoteModelId, type RuntimeConfig } from '../core/config';

/** Where `id`'s messages go: its configured URL, or Google's API for Gemini with a key only. */
export function remoteTarget(config: Pick<RuntimeConfig, 'vllm' | 'gemini'>, id: RemoteModelId): string {
  if (id === 'vllm') return config.vllm.url ?? 'a vLLM server';
  return config.gemini.baseUrl ?? "Google's Gemini API at generativelanguage.googleapis.com";
}

/** The remote models that may receive a message under `config` with `active` selected, in chain order. */
export function remoteDestinations(config: RuntimeConfig, active: string, allowed: (id: string) => boolean): RemoteModelId[] {
  const chain = [active, ...config.fallback.filter((id) => id !== active)];
  return chain.filter((id): id is RemoteModelId => isRemoteModel(id) && remoteConfigured(config, id) && allowed(id));
}

export interface Destinations {
  /** One or two sentences, true for every path a message can take (fallback and cascade included). */
  text: string;
  /** Whether a message may leave the device. */
  remote: boolean;
}

/**
 * Where a message goes, in words a customer reads before sending: the active model's server if it
 * is remote, and every remote model the fallback chain or the confidence cascade may reach, with
 * the condition. Says when the page's address set any of it.
 */
export function describeDestinations(config: RuntimeConfig, active: string, allowed: (id: string) => boolean): Destinations {
  const remotes = remoteDestinations(config, active, allowed);
  if (remotes.length === 0) return { text: 'Messages stay in this page.', remote: false };
  const named = (ids: readonly RemoteModelId[]) => listOf(ids.map((id) => `${remoteTarget(config, id)} (${id})`));
  const masked = 'personal data is masked first';
  let text: string;
  if (isRemoteModel(active) && remotes[0] === active) {
    text = `Messages go to ${named([active])}; ${masked}.`;
    if (remotes.length > 1) text += ` If it fails, they go to ${named(remotes.slice(1))}.`;
  } else {
    // An on-device model answers first: a remote one gets the message on failure, and through the cascade.
    const when = ['the on-device model fails'];
    const below = config.escalateBelow;
    if (below !== undefined && below > 0) {
      when.push(below >= 1 ? 'its answer is less than certain (so nearly always)' : `its confidence is below ${Math.round(below * 100)}%`);
    }
    if (config.outOfScope.escalate) when.push('it finds the message is not about banking');
    text = `Messages stay in this page unless ${listOf(when, 'or')}: then they go to ${named(remotes)}; ${masked}.`;
  }
  const fromUrl = config.remote.fromUrl;
  if (fromUrl.length > 0) text += ` Set by this page's address (${fromUrl.join(', ')}).`;
  return { text, remote: true };
}

/** What the page's address asked for and did not get, or undefined. */
export function refusedNotice(config: RuntimeConfig, allowed: (id: string) => boolean): string | undefined {
  const refused = config.remote.refused.filter((r) => !allowed(r.id));
  if (refused.length === 0) return undefined;
  const ids = [...new Set(refused.map((r) => r.id))];
  const asked = listOf(refused.map((r) => `${r.param}=${r.id}`));
  return (
    `This page's address asks to send messages to ${listOf(ids)} (${asked}), which this page is not set up to do: ignored. ` +
    `To use ${ids.length === 1 ? 'it' : 'them'}, choose ${ids.length === 1 ? 'it' : 'one'} in the Model list or under "Remote models".`
  );
}

function listOf(items: readonly string[], conjunction = 'and'): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} ${conjunction} ${items.at(-1)}`;
}
