/**
 * Whether a URL carries a credential. Kept free of imports: vite.config.ts's env guard
 * (scripts/lib/env-guard.ts) loads it while the build starts.
 */

/** Query (or fragment) parameter names that carry a credential: `key`, `api_key`, `access_token`, `sig`, ... */
const SECRET_PARAM =
  /^(?:x-goog-api-key|(?:api[-_]?)?key|apikey|(?:access|auth|id|refresh|session|bearer)?[-_]?token|(?:client[-_]?)?secret|pass(?:word|wd)?|pwd|sig(?:nature)?|auth(?:orization)?|credentials?|x-amz-(?:signature|credential|security-token))$/i;

/**
 * What makes `url` carry a credential, in words that do not repeat it: `a user name or password
 * before the host`, `the query parameter "key"`; undefined when it carries none.
 */
export function credentialsInUrl(url: URL | string): string | undefined {
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : url;
  } catch {
    return undefined;
  }
  if (parsed.username || parsed.password) return 'a user name or password before the host';
  for (const [where, params] of [
    ['query', parsed.searchParams],
    ['fragment', new URLSearchParams(parsed.hash.slice(1))],
  ] as const) {
    for (const name of params.keys()) if (SECRET_PARAM.test(name.trim())) return `the ${where} parameter "${name}"`;
  }
  return undefined;
}
