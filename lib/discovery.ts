import type { DiscoveryConfig } from '../api/discovery-config.ts';

/** The suffix that marks an application of this deployment, as in Platformatic Watt. */
export const PLT_LOCAL_SUFFIX = '.plt.local';

/** Raised when a `<app>.plt.local` host names no known application. */
export class UnknownAppError extends Error {
  readonly code = 'UNKNOWN_APP';
  readonly app: string;
  constructor(app: string) {
    super(`application "${app}" is not known to discovery (add it to discovery.apps)`);
    this.app = app;
  }
}

/** The application id of a `<app>.plt.local` hostname, or undefined for any other host. */
function appIdOf(hostname: string): string | undefined {
  const host = hostname.toLowerCase();
  if (!host.endsWith(PLT_LOCAL_SUFFIX)) return undefined;
  const id = host.slice(0, -PLT_LOCAL_SUFFIX.length);
  return id.length > 0 && !id.includes('.') ? id : undefined;
}

/** The URL that reaches an application, from an id such as Platformatic's `fallback`. */
export function appUrl(id: string): URL {
  return new URL(`http://${id}${PLT_LOCAL_SUFFIX}`);
}

/**
 * Resolves `<app>.plt.local` URLs to where the application really listens; other URLs pass
 * through unchanged. Pure: no DNS is consulted here.
 */
export class Discovery {
  readonly #config: DiscoveryConfig | undefined;

  constructor(config: DiscoveryConfig | undefined) {
    this.#config = config;
  }

  /** True when `url` names an application of this deployment. */
  isAppUrl(url: URL): boolean {
    return appIdOf(url.hostname) !== undefined;
  }

  /** The concrete URL for `url`; throws UnknownAppError when the application is unknown. */
  resolve(url: URL): URL {
    const id = appIdOf(url.hostname);
    if (id === undefined) return url;
    const config = this.#config;
    if (config !== undefined && 'apps' in config) {
      const base = config.apps[id];
      if (base === undefined) throw new UnknownAppError(id);
      const target = new URL(base);
      const prefix = target.pathname.replace(/\/+$/, '');
      target.pathname = prefix + url.pathname;
      target.search = url.search;
      return target;
    }
    if (config !== undefined && 'namespace' in config) {
      const target = new URL(url.href);
      target.hostname = `${id}.${config.namespace}.svc.${config.clusterDomain}`;
      const port = config.ports?.[id];
      if (url.port === '' && port !== undefined) target.port = String(port);
      return target;
    }
    throw new UnknownAppError(id);
  }
}
