/**
 * The package's type declarations: `tsc -p tsconfig.build.json` writes them to `dist/types/` (one
 * `.d.ts` per source file the entries reach), then every relative import in them gets the
 * extension Node's resolution needs (`'./intent-runtime'` → `'./intent-runtime.js'`,
 * `'../core'` → `'../core/index.js'`): the sources use bundler-style imports without one, which a
 * consumer compiling with `moduleResolution: "nodenext"` could not follow. Part of
 * `npm run build:package`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = resolve(ROOT, 'dist/types');

/** `from './x'`, `import('./x')` and `import './x'` with a relative specifier, either quote. */
const RELATIVE_IMPORT = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]*)\2/g;

function declarationFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return declarationFiles(path);
    return entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The specifier Node resolution can follow, or the same one when it already has an extension or names nothing here. */
function withExtension(specifier: string, fromFile: string): string {
  if (/\.(js|mjs|cjs|json)$/.test(specifier)) return specifier;
  const target = resolve(dirname(fromFile), specifier);
  if (existsSync(`${target}.d.ts`)) return `${specifier}.js`;
  if (existsSync(join(target, 'index.d.ts'))) return `${specifier.replace(/\/$/, '')}/index.js`;
  throw new Error(`${fromFile}: cannot find the declaration for "${specifier}".`);
}

rmSync(OUT, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', resolve(ROOT, 'tsconfig.build.json')], { cwd: ROOT, stdio: 'inherit' });

const files = declarationFiles(OUT);
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const fixed = text.replace(RELATIVE_IMPORT, (_match, lead: string, quote: string, specifier: string) => {
    return `${lead}${quote}${withExtension(specifier, file)}${quote}`;
  });
  if (fixed !== text) writeFileSync(file, fixed);
}
console.log(`${files.length} declaration files in ${OUT}`);
