/**
 * Where a benchmark ran: the browser (or Node), the GPU WebGPU offers, the CPU count. Safe in the
 * page, in a worker and in Node: everything is read through optional globals, and a missing or
 * failing WebGPU gives `webgpu: null`, never an error.
 */

export interface WebGpuInfo {
  vendor: string;
  architecture: string;
  description: string;
}

export interface BenchmarkEnvironment {
  /** `navigator.userAgent`, or `Node.js/<version> (<platform>; <arch>)` outside a browser. */
  user_agent: string | null;
  /** What `navigator.gpu.requestAdapter()` says about the GPU; null without WebGPU or an adapter. */
  webgpu: WebGpuInfo | null;
  /** `navigator.hardwareConcurrency`; null where the host does not say. */
  hardware_concurrency: number | null;
  /**
   * Whether the page was cross-origin isolated (COOP/COEP), which WebAssembly threads need: on-device
   * models then run on several threads, else on one. Null outside a browser; absent in records
   * written before it was recorded.
   */
  cross_origin_isolated?: boolean | null;
}

/** How the WebAssembly models ran, for a round's description; undefined where it is not known. */
export function describeThreads(environment: BenchmarkEnvironment): string | undefined {
  if (environment.cross_origin_isolated === true) return 'WASM threads on (cross-origin isolated)';
  if (environment.cross_origin_isolated === false) return 'WASM on one thread (not cross-origin isolated)';
  return undefined;
}

/** The parts of `navigator` read here (the project does not load the WebGPU type definitions). */
interface NavigatorLike {
  userAgent?: string;
  hardwareConcurrency?: number;
  gpu?: { requestAdapter(): Promise<AdapterLike | null> };
}
interface AdapterLike {
  /** Chrome 114+, Firefox, Safari. */
  info?: Partial<WebGpuInfo>;
  /** Older Chrome, before `info`. */
  requestAdapterInfo?: () => Promise<Partial<WebGpuInfo>>;
}

/** Some drivers never settle `requestAdapter()`; a round must not wait on them. */
const ADAPTER_TIMEOUT_MS = 3_000;

export async function collectEnvironment(): Promise<BenchmarkEnvironment> {
  const scope = globalThis as { navigator?: NavigatorLike; crossOriginIsolated?: boolean };
  const nav = scope.navigator;
  const node = (globalThis as { process?: { versions?: { node?: string }; platform?: string; arch?: string } }).process;
  // Node 21+ has a `navigator` too; its user agent is `Node.js/21`, less than the fallback says.
  const nodeAgent = node?.versions?.node ? `Node.js/${node.versions.node} (${node.platform ?? '?'}; ${node.arch ?? '?'})` : undefined;
  const browserAgent = nav?.userAgent && !nav.userAgent.startsWith('Node.js') ? nav.userAgent : undefined;
  return {
    user_agent: browserAgent ?? nodeAgent ?? nav?.userAgent ?? null,
    webgpu: await webGpuInfo(nav),
    hardware_concurrency: typeof nav?.hardwareConcurrency === 'number' ? nav.hardwareConcurrency : null,
    cross_origin_isolated: typeof scope.crossOriginIsolated === 'boolean' ? scope.crossOriginIsolated : null,
  };
}

async function webGpuInfo(nav: NavigatorLike | undefined): Promise<WebGpuInfo | null> {
  if (!nav?.gpu) return null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ADAPTER_TIMEOUT_MS)));
    const adapter = await Promise.race([nav.gpu.requestAdapter(), timeout]);
    if (!adapter) return null;
    const info = adapter.info ?? (await adapter.requestAdapterInfo?.()) ?? {};
    return { vendor: info.vendor ?? '', architecture: info.architecture ?? '', description: info.description ?? '' };
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
  }
}
