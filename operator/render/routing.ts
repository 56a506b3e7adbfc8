import type { KubernetesObject, V1Ingress, V1IngressRule } from '@kubernetes/client-node';
import type { ImageOptimizer } from '../../api/image-optimizer.ts';
import { childMeta, childNames, PORTS } from './names.ts';

// Routing modes httpRoute and ingress: instead of our gateway, the cluster's Gateway API
// implementation or Ingress controller sends /_next/image to the optimizer Service. The path
// is matched exactly, as Next.js serves the endpoint: the query string carries every parameter.

/** The path Next.js's image endpoint answers on. */
export const IMAGE_PATH = '/_next/image';
export const HTTP_ROUTE_API_VERSION = 'gateway.networking.k8s.io/v1';

/** A gateway.networking.k8s.io/v1 HTTPRoute (client-node has no type for it). */
export interface HttpRoute extends KubernetesObject {
  spec: {
    parentRefs: Array<Record<string, string | number>>;
    hostnames?: string[];
    rules: Array<{
      matches: Array<{ path: { type: 'Exact' | 'PathPrefix'; value: string }; method?: 'GET' }>;
      backendRefs: Array<{ name: string; port: number }>;
    }>;
  };
}

/** routing.mode httpRoute: GET /_next/image → the optimizer, everything else → the frontend (if set). */
export function httpRoute(cr: ImageOptimizer): HttpRoute | undefined {
  const routing = cr.spec.routing;
  if (routing.mode !== 'httpRoute' || routing.httpRoute === undefined) return undefined;
  const names = childNames(cr.metadata.name);
  const rules: HttpRoute['spec']['rules'] = [
    {
      matches: [{ path: { type: 'Exact', value: IMAGE_PATH }, method: 'GET' }],
      backendRefs: [{ name: names.optimizer, port: PORTS.optimizer }],
    },
  ];
  if (routing.frontend !== undefined)
    rules.push({
      matches: [{ path: { type: 'PathPrefix', value: '/' } }],
      backendRefs: [{ name: routing.frontend.name, port: routing.frontend.port }],
    });
  // Only the keys the user set: the API server defaults group and kind, and a key we never
  // send is one server-side apply never fights over.
  const parentRefs = routing.httpRoute.parentRefs.map((ref) =>
    Object.fromEntries(Object.entries(ref).filter(([, v]) => v !== undefined)),
  );
  const hostnames = routing.httpRoute.hostnames;
  const spec: HttpRoute['spec'] =
    hostnames === undefined
      ? { parentRefs, rules }
      : { parentRefs, hostnames: [...hostnames], rules };
  return {
    apiVersion: HTTP_ROUTE_API_VERSION,
    kind: 'HTTPRoute',
    metadata: childMeta(cr, names.route, 'routing'),
    spec,
  };
}

/**
 * routing.mode ingress: path /_next/image (Exact) → the optimizer, / (Prefix) → the frontend
 * (if set), under each host. An Ingress cannot match on method: every method reaches the
 * optimizer, which answers anything but GET and HEAD as Next.js does.
 */
export function ingress(cr: ImageOptimizer): V1Ingress | undefined {
  const routing = cr.spec.routing;
  if (routing.mode !== 'ingress') return undefined;
  const names = childNames(cr.metadata.name);
  const settings = routing.ingress ?? {};
  const paths: NonNullable<V1IngressRule['http']>['paths'] = [
    {
      path: IMAGE_PATH,
      pathType: 'Exact',
      backend: { service: { name: names.optimizer, port: { number: PORTS.optimizer } } },
    },
  ];
  if (routing.frontend !== undefined)
    paths.push({
      path: '/',
      pathType: 'Prefix',
      backend: {
        service: { name: routing.frontend.name, port: { number: routing.frontend.port } },
      },
    });
  const hosts: Array<string | undefined> = settings.hosts ?? [undefined];
  const metadata = childMeta(cr, names.route, 'routing');
  if (settings.annotations !== undefined) metadata.annotations = { ...settings.annotations };
  const spec: NonNullable<V1Ingress['spec']> = {
    rules: hosts.map((host) =>
      host === undefined ? { http: { paths } } : { host, http: { paths } },
    ),
  };
  if (settings.ingressClassName !== undefined) spec.ingressClassName = settings.ingressClassName;
  if (settings.tls !== undefined) spec.tls = settings.tls.map((t) => ({ ...t }));
  return { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata, spec };
}
