import type { FastifyInstance, RouteOptions } from 'fastify';
import { type GatewayConfig, type GatewayMethod, PROXY_DEFAULTS } from '../api/gateway-config.ts';
import { RouteConflictError } from './errors.ts';

/**
 * Which routes the gateway registers, the way @platformatic/gateway registers them: for every
 * application with a proxy, one fastify plugin under `proxy.prefix` (default "/<id>", one
 * trailing "/" dropped) with one route per entry of `proxy.routes` for `proxy.methods` (HEAD
 * follows GET). Fastify's router then picks the route; this module only says what to register.
 */

/** One proxied application as the router sees it. */
export interface ProxiedApplication {
  id: string;
  /** The plugin prefix, as Platformatic passes it to fastify ("" for the root). */
  prefix: string;
  routes: readonly string[];
  methods: readonly GatewayMethod[];
}

/** Fastify's prefix normalisation: a leading "/", no trailing "/" ("" for the root). */
export function normalizePrefix(prefix: string): string {
  const trimmed = prefix.replace(/\/$/, '');
  if (trimmed === '') return '';
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

/** The applications of a gateway config that take part in proxying, in file order. */
export function proxiedApplications(config: GatewayConfig): ProxiedApplication[] {
  const out: ProxiedApplication[] = [];
  for (const app of config.gateway.applications) {
    if (app.proxy === false) continue;
    out.push({
      id: app.id,
      prefix: (app.proxy?.prefix ?? app.id).replace(/\/$/, ''),
      routes: app.proxy?.routes ?? PROXY_DEFAULTS.routes,
      methods: app.proxy?.methods ?? PROXY_DEFAULTS.methods,
    });
  }
  return out;
}

/** The application a route was registered for (its route config). */
export interface ProxyRouteConfig {
  application?: string;
}

/**
 * Makes a second application claiming a method and path already claimed a RouteConflictError
 * naming both, where fastify would only say FST_ERR_DUPLICATED_ROUTE. Call before the routes
 * are registered. find-my-way treats "/a/:x" and "/a/:y" as the same path, and so does this.
 */
export function refuseRouteConflicts(app: FastifyInstance): void {
  const claimed = new Map<string, string>();
  app.addHook('onRoute', (route: RouteOptions) => {
    const application = (route.config as ProxyRouteConfig | undefined)?.application;
    if (application === undefined) return;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      // Fastify adds HEAD wherever GET is; a clash there is a clash on GET first.
      if (method === 'HEAD') continue;
      const key = `${method} ${route.url.replace(/:[A-Za-z_]\w*/g, ':')}`;
      const owner = claimed.get(key);
      if (owner !== undefined && owner !== application)
        throw new RouteConflictError(method, route.url, owner, application);
      claimed.set(key, application);
    }
  });
}
