import { z } from 'zod';
import { int, rules } from './cel-rules.ts';

// `spec.routing`: how GET /_next/image reaches the optimizer. `gateway` runs our own gateway
// in front of the frontend; `httpRoute` and `ingress` hand the routing to what the cluster
// already runs (a Gateway API implementation, an Ingress controller) and skip our gateway.

export const ROUTING_MODES = ['gateway', 'httpRoute', 'ingress'] as const;
export type RoutingMode = (typeof ROUTING_MODES)[number];

/** A DNS hostname, optionally with one leading `*.` label (Gateway API's and Ingress's rule). */
const HostnameSchema = z
  .string()
  .max(253)
  .regex(
    /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
    'a hostname is lower-case DNS labels separated by dots, optionally starting with "*." (for example shop.example.com)',
  );

/** A Kubernetes object name that is a DNS-1123 label (Services, Gateways, listeners). */
const DnsLabelSchema = z
  .string()
  .min(1)
  .max(63)
  .regex(
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
    'must be a DNS label: a-z, 0-9 and "-", starting and ending with a letter or digit',
  );

/** The frontend Service that gets every request that is not GET /_next/image. */
export const FrontendSchema = z
  .strictObject({
    name: DnsLabelSchema.describe('Name of the frontend Service, in this namespace.'),
    port: int(1, 65535).default(80).describe('Port of that Service (default 80).'),
  })
  .describe(
    'httpRoute and ingress: the Service (in this namespace) that gets everything but /_next/image. Leave it out when a route of your own already sends the rest.',
  );

/** One Gateway API ParentReference: the Gateway (or listener) the HTTPRoute attaches to. */
export const ParentRefSchema = z
  .strictObject({
    name: z.string().min(1).max(253).describe('Name of the parent, usually a Gateway.'),
    namespace: DnsLabelSchema.optional().describe(
      "Namespace of the parent (default: this resource's namespace). The Gateway's listener must allow routes from this namespace.",
    ),
    sectionName: DnsLabelSchema.optional().describe(
      'A listener of the Gateway by name (default: every listener that accepts the route).',
    ),
    port: int(1, 65535).optional().describe('A listener of the Gateway by port.'),
    group: z
      .string()
      .max(253)
      .optional()
      .describe('API group of the parent (default gateway.networking.k8s.io).'),
    kind: z.string().min(1).max(63).optional().describe('Kind of the parent (default Gateway).'),
  })
  .describe('A Gateway API ParentReference.');

export const HttpRouteSchema = z
  .strictObject({
    parentRefs: z
      .array(ParentRefSchema)
      .min(1)
      .max(32)
      .describe('The Gateways (or listeners) the HTTPRoute attaches to; at least one.'),
    hostnames: z
      .array(HostnameSchema)
      .max(16)
      .optional()
      .describe(
        'Host names the HTTPRoute matches (default: every host name of the parent listeners).',
      ),
  })
  .describe('routing.mode httpRoute: the HTTPRoute (gateway.networking.k8s.io/v1) to create.');

export const IngressTlsSchema = z
  .strictObject({
    hosts: z
      .array(HostnameSchema)
      .max(16)
      .optional()
      .describe('Host names the certificate covers.'),
    secretName: z
      .string()
      .min(1)
      .max(253)
      .optional()
      .describe('The kubernetes.io/tls Secret, in this namespace, with the certificate.'),
  })
  .describe('One TLS entry of the Ingress: host names and the Secret with their certificate.');

export const IngressSchema = z
  .strictObject({
    ingressClassName: z
      .string()
      .min(1)
      .max(253)
      .optional()
      .describe("The IngressClass (default: the cluster's default class)."),
    hosts: z
      .array(HostnameSchema)
      .max(16)
      .optional()
      .describe(
        'Host names the Ingress rules match, one rule each (default: one rule without a host, matching every host).',
      ),
    tls: z.array(IngressTlsSchema).max(16).optional().describe('TLS settings, as in an Ingress.'),
    annotations: z
      .record(z.string(), z.string())
      .optional()
      .describe('Annotations of the Ingress, for the Ingress controller or cert-manager.'),
  })
  .describe('routing.mode ingress: the Ingress (networking.k8s.io/v1) to create.');

/** `spec.routing`. */
export const RoutingSchema = rules(
  z
    .strictObject({
      mode: z
        .enum(ROUTING_MODES)
        .default('gateway')
        .describe(
          "gateway (default): our gateway Deployment in front sends GET /_next/image to the optimizer and the rest to the fallback. httpRoute: no gateway of ours; an HTTPRoute does the same through the cluster's Gateway API implementation. ingress: no gateway of ours; an Ingress path /_next/image goes to the optimizer.",
        ),
      frontend: FrontendSchema.optional(),
      httpRoute: HttpRouteSchema.optional(),
      ingress: IngressSchema.optional(),
    })
    .describe('How requests reach the optimizer: our gateway, an HTTPRoute or an Ingress.'),
  [
    {
      rule: "self.mode != 'httpRoute' || has(self.httpRoute)",
      message:
        'routing.mode httpRoute needs routing.httpRoute.parentRefs (the Gateway to attach to)',
      check: (r) => r.mode !== 'httpRoute' || r.httpRoute !== undefined,
    },
    {
      rule: "self.mode == 'httpRoute' || !has(self.httpRoute)",
      message: 'routing.httpRoute applies only to routing.mode httpRoute',
      check: (r) => r.mode === 'httpRoute' || r.httpRoute === undefined,
    },
    {
      rule: "self.mode == 'ingress' || !has(self.ingress)",
      message: 'routing.ingress applies only to routing.mode ingress',
      check: (r) => r.mode === 'ingress' || r.ingress === undefined,
    },
    {
      rule: "self.mode != 'gateway' || !has(self.frontend)",
      message:
        'routing.frontend applies to routing.mode httpRoute and ingress; in mode gateway the gateway sends the rest to imageOptimizer.fallback (or gateway.applications)',
      check: (r) => r.mode !== 'gateway' || r.frontend === undefined,
    },
  ],
);
export type Routing = z.infer<typeof RoutingSchema>;
