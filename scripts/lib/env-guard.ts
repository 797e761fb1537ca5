/**
 * A Vite plugin that keeps credentials out of the built site. Every `VITE_*` value can end up in
 * the bundle every visitor downloads, so the build (and the dev server) refuses to start when one
 * holds a URL with credentials in it: `https://svc:KEY@host`, `https://proxy?key=…`. A variable
 * whose name says it holds a secret (`VITE_GEMINI_API_KEY`) is only warned about, as the site
 * never reads it (src/ui/config.ts names each variable it reads); but if its value still turns up
 * in an output file, the build fails. Messages name the variable, never its value.
 */
import type { Plugin } from 'vite';
import { credentialsInUrl } from '../../src/core/url-credentials.js';

export interface EnvProblem {
  variable: string;
  /** `error` stops the build; `warning` is printed. */
  severity: 'error' | 'warning';
  message: string;
}

/** Names that say a variable holds a secret. */
const SECRET_NAME = /KEY|SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL|PRIVATE/i;
/** Every URL with an authority inside a value (a value may hold several, e.g. a list). */
const URL_IN_TEXT = /[a-z][a-z0-9+.-]*:\/\/[^\s"'<>,;]+/gi;

/** The problems with the env variables starting with one of `prefixes`; empty when there are none. */
export function checkBuildEnv(env: Record<string, unknown>, prefixes: readonly string[] = ['VITE_']): EnvProblem[] {
  const problems: EnvProblem[] = [];
  for (const [variable, value] of Object.entries(env)) {
    if (!prefixes.some((prefix) => variable.startsWith(prefix)) || typeof value !== 'string' || value.trim() === '') continue;
    for (const url of value.match(URL_IN_TEXT) ?? []) {
      const credentials = credentialsInUrl(url);
      if (!credentials) continue;
      problems.push({
        variable,
        severity: 'error',
        message:
          `${variable} holds a URL with credentials in it (${credentials}). Every ${prefixes.join('/')} value can be built into the ` +
          `page that every visitor downloads, so the credential would be public. Remove it from ${variable}: point the URL at ` +
          `the bank's proxy, which adds credentials on the server, or enter an API key at run time in the page's "Remote models" ` +
          `panel (the command line reads VLLM_API_KEY and GEMINI_API_KEY).`,
      });
      break;
    }
    if (SECRET_NAME.test(variable.slice(prefixes.find((p) => variable.startsWith(p))!.length))) {
      problems.push({
        variable,
        severity: 'warning',
        message:
          `${variable} is set, and its name says it holds a secret. The site never reads it, and this build fails if its value ` +
          `reaches an output file; but ${prefixes.join('/')} variables are for public settings: unset it.`,
      });
    }
  }
  return problems;
}

/** Emitted files that may hold text copied from code (binary ones, models and WebAssembly, cannot). */
const TEXT_FILE = /\.(?:m?js|html|css|json|webmanifest|map|txt|svg)$/i;

/** The variables whose values must not appear in any output file. */
function secretValues(env: Record<string, unknown>, prefixes: readonly string[]): [string, string][] {
  return Object.entries(env).filter(
    (entry): entry is [string, string] =>
      prefixes.some((prefix) => entry[0].startsWith(prefix)) &&
      SECRET_NAME.test(entry[0]) &&
      typeof entry[1] === 'string' &&
      // Too short a value would match by chance.
      entry[1].trim().length >= 8,
  );
}

export function envGuard(): Plugin {
  let secrets: [string, string][] = [];
  return {
    name: 'banking-intent:env-guard',
    enforce: 'pre',
    configResolved(config) {
      const prefixes = ([] as string[]).concat(config.envPrefix ?? 'VITE_');
      const problems = checkBuildEnv(config.env, prefixes);
      for (const problem of problems.filter((p) => p.severity === 'warning')) config.logger.warn(`env guard: ${problem.message}`);
      const errors = problems.filter((p) => p.severity === 'error');
      if (errors.length > 0) throw new Error(`Refusing to build: ${errors.map((p) => p.message).join('\n')}`);
      secrets = secretValues(config.env, prefixes);
    },
    generateBundle(_options, bundle) {
      for (const file of Object.values(bundle)) {
        if (file.type === 'asset' && typeof file.source !== 'string' && !TEXT_FILE.test(file.fileName)) continue;
        const text =
          file.type === 'chunk' ? file.code : typeof file.source === 'string' ? file.source : Buffer.from(file.source).toString('utf8');
        for (const [variable, value] of secrets) {
          if (text.includes(value.trim())) {
            this.error(`Refusing to build: the value of ${variable} was built into ${file.fileName}. Unset ${variable}.`);
          }
        }
      }
    },
  };
}
