/**
 * The built site (`dist/`) served by Vite's preview server on 127.0.0.1 with a free port, and a
 * headless Chromium driven by playwright-core: shared by `npm run bench` and the browser tests.
 *
 * Chromium, found the way a developer's machine has one (`findChromium`): `CHROMIUM_PATH` if set,
 * else Debian's /usr/bin/chromium (or Ubuntu's chromium-browser), else an installed Google Chrome
 * or Microsoft Edge through playwright-core's channels, else Playwright's own download
 * (`npx playwright install chromium`). With none, `NO_CHROMIUM` says how to get one.
 */
import { existsSync } from 'node:fs';
import type { OutgoingHttpHeaders } from 'node:http';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { preview, type Plugin, type PreviewServer } from 'vite';
import { countBytesSent, ISOLATION_HEADERS, pathOf, sendFile } from './static-files';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const DIST = resolve(ROOT, 'dist');

/** Quiet, sandbox-free flags that work headless as root and keep Chromium off the network. */
const BASE_FLAGS = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Where the browser comes from, for `chromium.launch`: an executable, or an installed channel. */
export interface ChromiumChoice {
  executablePath?: string;
  channel?: 'chrome' | 'msedge';
  /** In words, for messages: "CHROMIUM_PATH", "/usr/bin/chromium", "Google Chrome", "Playwright's Chromium". */
  source: string;
}

/** The one line printed when there is no browser, saying how to get one. */
export const NO_CHROMIUM =
  'No Chromium for the browser tests: install one (Debian/Ubuntu: `sudo apt-get install chromium`; anywhere: ' +
  '`npx playwright install chromium`), install Google Chrome or Microsoft Edge, or set CHROMIUM_PATH=/path/to/chromium.';

/** Stable Chrome and Edge where playwright-core's `chrome` and `msedge` channels look for them. */
function channelPaths(channel: 'chrome' | 'msedge', env: NodeJS.ProcessEnv): string[] {
  if (process.platform === 'linux') return [channel === 'chrome' ? '/opt/google/chrome/chrome' : '/opt/microsoft/msedge/msedge'];
  if (process.platform === 'darwin')
    return [
      channel === 'chrome'
        ? '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome'
        : '/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge',
    ];
  if (process.platform === 'win32') {
    const suffix = channel === 'chrome' ? 'Google\\Chrome\\Application\\chrome.exe' : 'Microsoft\\Edge\\Application\\msedge.exe';
    return [env.LOCALAPPDATA, env.PROGRAMFILES, env['PROGRAMFILES(X86)']]
      .filter((dir): dir is string => !!dir)
      .map((dir) => join(dir, suffix));
  }
  return [];
}

/**
 * The browser the tests and `npm run bench` use, or undefined when this machine has none. A
 * `CHROMIUM_PATH` that does not exist is an error: the user asked for that one.
 */
export function findChromium(
  env: NodeJS.ProcessEnv = process.env,
  exists: (path: string) => boolean = existsSync,
): ChromiumChoice | undefined {
  const fromEnv = env.CHROMIUM_PATH;
  if (fromEnv) {
    if (!exists(fromEnv)) throw new Error(`CHROMIUM_PATH=${fromEnv} does not exist: point it at a Chromium or Chrome executable`);
    return { executablePath: fromEnv, source: 'CHROMIUM_PATH' };
  }
  for (const path of ['/usr/bin/chromium', '/usr/bin/chromium-browser']) if (exists(path)) return { executablePath: path, source: path };
  if (channelPaths('chrome', env).some((path) => exists(path))) return { channel: 'chrome', source: 'Google Chrome' };
  if (channelPaths('msedge', env).some((path) => exists(path))) return { channel: 'msedge', source: 'Microsoft Edge' };
  // Playwright's download: headless launches use its headless shell, installed with it.
  if (exists(chromium.executablePath())) return { source: "Playwright's Chromium" };
  return undefined;
}

/** The executable `findChromium` chose, when it is a path (kept for callers that print it). */
export function chromiumPath(): string | undefined {
  return findChromium()?.executablePath;
}

/** `webgpu: true` adds `--enable-unsafe-webgpu`: a SwiftShader adapter without a GPU. */
export function launchChromium(options: { webgpu: boolean }): Promise<Browser> {
  const choice = findChromium();
  if (!choice) throw new Error(NO_CHROMIUM);
  return chromium.launch({
    ...(choice.executablePath ? { executablePath: choice.executablePath } : {}),
    ...(choice.channel ? { channel: choice.channel } : {}),
    headless: true,
    args: options.webgpu ? [...BASE_FLAGS, '--enable-unsafe-webgpu'] : BASE_FLAGS,
  });
}

/**
 * A browser with a profile in `userDataDir`: a disk HTTP cache as a user's browser has (a plain
 * context keeps its cache in memory, where a 14 MB runtime does not stay).
 */
export function launchPersistentChromium(userDataDir: string, options: { webgpu: boolean }): Promise<BrowserContext> {
  const choice = findChromium();
  if (!choice) throw new Error(NO_CHROMIUM);
  return chromium.launchPersistentContext(userDataDir, {
    ...(choice.executablePath ? { executablePath: choice.executablePath } : {}),
    ...(choice.channel ? { channel: choice.channel } : {}),
    headless: true,
    viewport: { width: 1100, height: 900 },
    args: options.webgpu ? [...BASE_FLAGS, '--enable-unsafe-webgpu'] : BASE_FLAGS,
  });
}

export interface Site {
  /** `http://127.0.0.1:PORT` */
  origin: string;
  close(): Promise<void>;
}

/** The site as `serveSite` serves it. */
export interface ServedSite extends Site {
  /** Bytes the server has written to its sockets so far (headers and bodies, as sent). */
  bytesSent(): number;
}

export interface ServeSiteOptions {
  /**
   * More folders on the site: URL path (`/bench-model/`) → folder on disk. `npm run bench --
   * --model-dir DIR` mounts a model folder this way, and opens the page with `?models=/bench-model/`.
   */
  mounts?: Record<string, string>;
  /**
   * false serves the site without the cross-origin isolation headers vite.config.ts sets, so the
   * page gets no SharedArrayBuffer and WASM runs on one thread (`npm run bench -- --single-thread`).
   */
  isolated?: boolean;
}

/** Drops the configured COOP/COEP headers (a config override would be merged with them, not replace them). */
const notIsolated: Plugin = {
  name: 'banking-intent:not-isolated',
  configResolved(config) {
    // A new object: the configured one may be ISOLATION_HEADERS itself, shared with other servers.
    const kept = Object.entries(config.preview.headers ?? {}).filter(([name]) => !(name in ISOLATION_HEADERS));
    (config.preview as { headers?: OutgoingHttpHeaders }).headers = Object.fromEntries(kept);
  },
};

export async function serveSite(options: ServeSiteOptions = {}): Promise<ServedSite> {
  if (!existsSync(resolve(DIST, 'index.html'))) {
    throw new Error(`No built site in ${DIST}: run \`npm run build\` first (npm test does).`);
  }
  const mounts = Object.entries(options.mounts ?? {});
  const mountPlugin: Plugin = {
    name: 'banking-intent:mounts',
    configurePreviewServer(server) {
      server.middlewares.use((request, response, next) => {
        const path = pathOf(request);
        const mount = mounts.find(([prefix]) => path.startsWith(prefix));
        if (!mount) return next();
        sendFile(request, response, mount[1], '/' + path.slice(mount[0].length), { 'Cache-Control': 'no-cache' });
      });
    },
  };
  const server: PreviewServer = await preview({
    root: ROOT,
    logLevel: 'warn',
    preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false },
    plugins: [...(mounts.length > 0 ? [mountPlugin] : []), ...(options.isolated === false ? [notIsolated] : [])],
  });
  const address = server.httpServer.address();
  if (!address || typeof address === 'string') throw new Error('The preview server has no TCP address.');
  return {
    origin: `http://127.0.0.1:${address.port}`,
    bytesSent: countBytesSent(server.httpServer),
    close: () => server.close(),
  };
}
