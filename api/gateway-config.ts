import { z } from 'zod';
import { HttpUrlSchema, nonNegativeInt, PortSchema, ServerConfigSchema } from './common.ts';
import { AppIdSchema, DiscoveryConfigSchema } from './discovery-config.ts';

/** Methods Platformatic's gateway lets `proxy.methods` name; HEAD follows GET implicitly. */
export const GATEWAY_METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;
export type GatewayMethod = (typeof GATEWAY_METHODS)[number];

/** Platformatic's defaults for `proxy.methods` and `proxy.routes`. */
export const PROXY_DEFAULTS = {
  methods: [...GATEWAY_METHODS] as GatewayMethod[],
  routes: ['/', '/*'],
} as const;

/** Our defaults for what Platformatic leaves to the runtime. */
export const GATEWAY_DEFAULTS = {
  hostname: '127.0.0.1',
  port: 3042,
  adminPort: 3043,
  connectTimeout: 10_000,
  timeout: 30_000,
  bodyTimeout: 0,
  keepAliveTimeout: 60_000,
  connections: 128,
  shutdownGraceMs: 25_000,
} as const;

/**
 * A route as fastify (find-my-way) reads it: starts with "/", static text, `:name` parameters,
 * and at most one `*` wildcard, as the last character.
 */
export const RoutePatternSchema = z
  .string()
  .refine(
    (route) => route.startsWith('/'),
    'a route must start with "/" (for example "/_next/image" or "/*")',
  )
  .refine(
    (route) => !route.slice(0, -1).includes('*'),
    'a "*" wildcard may only be the last character of a route (for example "/assets/*")',
  )
  .refine((route) => !/[?#]/.test(route), 'a route matches paths only: leave out "?" and "#"')
  .refine(
    (route) =>
      route
        .split('/')
        .every((segment) => !segment.includes(':') || /^:[A-Za-z_]\w*$/.test(segment)),
    'a parameter is a whole segment such as "/users/:id" (letters, digits, "_")',
  );

const methodSchema = z
  .string()
  .refine(
    (method): method is GatewayMethod => (GATEWAY_METHODS as readonly string[]).includes(method),
    {
      error: (issue) =>
        issue.input === 'HEAD'
          ? 'HEAD is implied by GET: list "GET" instead'
          : `a method must be one of ${GATEWAY_METHODS.map((m) => `"${m}"`).join(', ')} (uppercase)`,
    },
  ) as unknown as z.ZodType<GatewayMethod>;

/** `gateway.applications[].proxy` as Platformatic defines it, minus the keys that load code. */
export const ProxyRouteOptionsSchema = z.strictObject({
  /** Mount point; leading/trailing "/" normalised. Default: "/<id>" (Platformatic's last resort). */
  prefix: z
    .string()
    .refine(
      (prefix) => !/[:*?#]/.test(prefix),
      'prefix is a plain path such as "/shop" (no parameters, wildcards, "?" or "#")',
    )
    .optional(),
  /** Path patterns below `prefix`; default `["/", "/*"]`. */
  routes: z
    .array(RoutePatternSchema)
    .min(1, 'routes needs at least one route')
    .default([...PROXY_DEFAULTS.routes]),
  /** Methods handled; default all six. HEAD is handled wherever GET is. */
  methods: z
    .array(methodSchema)
    .min(1, 'methods needs at least one method')
    .default([...PROXY_DEFAULTS.methods]),
  /** Where to send requests; overrides the application's `origin`. */
  upstream: HttpUrlSchema.optional(),
  /** Replaces `prefix` in the forwarded path (default: the upstream's own path). */
  rewritePrefix: z.string().optional(),
});
export type ProxyRouteOptions = z.infer<typeof ProxyRouteOptionsSchema>;

/** One entry of `gateway.applications`. */
export const GatewayApplicationSchema = z.strictObject({
  /** Application id; without `origin` the upstream is `http://<id>.plt.local` through discovery. */
  id: AppIdSchema,
  origin: HttpUrlSchema.optional(),
  /** `false` keeps the application out of the proxy; absent means mounted at "/<id>". */
  proxy: z.union([z.literal(false), ProxyRouteOptionsSchema]).optional(),
});
export type GatewayApplication = z.infer<typeof GatewayApplicationSchema>;

/** The `gateway` block of Platformatic's gateway `watt.json`. */
export const GatewayBlockSchema = z.strictObject({
  applications: z.array(GatewayApplicationSchema).default([]),
  /** Accepted for compatibility; there is nothing to refresh here. */
  refreshTimeout: nonNegativeInt('refreshTimeout').optional(),
  /** Accepted for compatibility; every content type passes through unparsed here. */
  passthroughContentTypes: z.array(z.string()).optional(),
});

const ms = (what: string): z.ZodType<number> =>
  z.number().int(`${what} must be an integer (milliseconds)`).min(0, `${what} must be 0 or more`);

/** The admin listener: /healthz, /readyz, /metrics, apart from the proxied routes. */
export const GatewayAdminSchema = z.strictObject({
  /** Default: the same host as the gateway. */
  hostname: z.string().min(1).optional(),
  port: PortSchema.default(GATEWAY_DEFAULTS.adminPort),
});

/** How the gateway talks to upstreams (undici keep-alive pools, one per origin). */
export const GatewayUpstreamSchema = z.strictObject({
  connectTimeout: ms('connectTimeout').default(GATEWAY_DEFAULTS.connectTimeout),
  /** Time to the upstream's response headers; past it the client gets 504. 0 = none. */
  timeout: ms('timeout').default(GATEWAY_DEFAULTS.timeout),
  /** Idle time allowed between body chunks; 0 = none, so SSE and long downloads may idle. */
  bodyTimeout: ms('bodyTimeout').default(GATEWAY_DEFAULTS.bodyTimeout),
  keepAliveTimeout: ms('keepAliveTimeout').default(GATEWAY_DEFAULTS.keepAliveTimeout),
  /** Connections per upstream origin. */
  connections: z.number().int().min(1).max(65_536).default(GATEWAY_DEFAULTS.connections),
});

/** The gateway's config file: Platformatic's gateway `watt.json` plus `discovery` and our knobs. */
export const GatewayConfigSchema = z
  .strictObject({
    $schema: z.string().optional(),
    server: ServerConfigSchema.optional(),
    gateway: GatewayBlockSchema,
    discovery: DiscoveryConfigSchema.optional(),
    admin: GatewayAdminSchema.default(GatewayAdminSchema.parse({})),
    upstream: GatewayUpstreamSchema.default(GatewayUpstreamSchema.parse({})),
    /**
     * Keep the client's x-forwarded-proto/-host (set by an ingress in front of the gateway)
     * instead of replacing them with this hop's; x-forwarded-for is appended to either way.
     */
    trustForwardedHeaders: z.boolean().default(false),
    /**
     * Gateway processes sharing the port (node:cluster), so one gateway can use several
     * cores; the admin listener then reports them together. Default 1: one process.
     */
    workers: z.number().int().min(1).max(64).default(1),
    /** Grace period for in-flight requests on SIGTERM. */
    shutdownGraceMs: ms('shutdownGraceMs').default(GATEWAY_DEFAULTS.shutdownGraceMs),
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.gateway.applications.forEach((app, index) => {
      if (seen.has(app.id)) {
        ctx.addIssue({
          code: 'custom',
          path: ['gateway', 'applications', index, 'id'],
          message: `duplicate application id "${app.id}": each id must appear once`,
        });
      }
      seen.add(app.id);
      const explicit = app.origin ?? (app.proxy === false ? undefined : app.proxy?.upstream);
      if (explicit !== undefined || app.proxy === false) return;
      const discovery = config.discovery;
      if (discovery === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['gateway', 'applications', index],
          message: `application "${app.id}" has no origin: give it "origin": "http://host:port" or add discovery ({"apps": {"${app.id}": "http://host:port"}} or {"namespace": "<ns>"})`,
        });
      } else if ('apps' in discovery && discovery.apps[app.id] === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['discovery', 'apps'],
          message: `no entry for application "${app.id}": add "${app.id}": "http://host:port" (or give the application an origin)`,
        });
      }
    });
  });
export type GatewayConfig = z.infer<typeof GatewayConfigSchema>;
/** The config as written (before defaults), e.g. what the operator renders. */
export type GatewayConfigInput = z.input<typeof GatewayConfigSchema>;
