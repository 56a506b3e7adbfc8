import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Label used for requests no application answers (404 from the gateway itself). */
export const NO_APPLICATION = 'none';

/** The gateway's Prometheus metrics, in a registry of its own (no global state). */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'application' | 'status'>;
  readonly upstreamLatency: Histogram<'application'>;
  readonly upstreamErrors: Counter<'application' | 'code'>;
  readonly upstreamRetries: Counter<'application' | 'code'>;
  readonly upgrades: Counter<'application' | 'outcome'>;
  readonly openUpgrades: Gauge<'application'>;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'gateway_requests_total',
      help: 'Requests answered by the gateway, by application and HTTP status',
      labelNames: ['application', 'status'],
      registers,
    });
    this.upstreamLatency = new Histogram({
      name: 'gateway_upstream_duration_seconds',
      help: 'Time from forwarding a request to receiving the upstream response headers',
      labelNames: ['application'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.upstreamErrors = new Counter({
      name: 'gateway_upstream_errors_total',
      help: 'Requests that got no upstream response, by application and error code',
      labelNames: ['application', 'code'],
      registers,
    });
    this.upstreamRetries = new Counter({
      name: 'gateway_upstream_retries_total',
      help: 'GET/HEAD requests sent again because the upstream connection failed before any response byte, by application and error code',
      labelNames: ['application', 'code'],
      registers,
    });
    this.upgrades = new Counter({
      name: 'gateway_upgrades_total',
      help: 'WebSocket upgrades, by application and outcome ("101" relayed, "no_route" refused with 404)',
      labelNames: ['application', 'outcome'],
      registers,
    });
    this.openUpgrades = new Gauge({
      name: 'gateway_upgrades_open',
      help: 'Upgraded (WebSocket) connections currently open',
      labelNames: ['application'],
      registers,
    });
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  // Label children, kept: resolving labels on every request costs more than the increment.
  readonly #requestChildren = new Map<string, { inc(): void }>();
  readonly #latencyChildren = new Map<string, { observe(value: number): void }>();

  /** Counts one answered request. */
  countRequest(application: string, status: number): void {
    labelChild(this.#requestChildren, `${application} ${status}`, () =>
      this.requests.labels(application, String(status)),
    ).inc();
  }

  /** Records the time to an upstream's response headers. */
  observeUpstream(application: string, seconds: number): void {
    labelChild(this.#latencyChildren, application, () =>
      this.upstreamLatency.labels(application),
    ).observe(seconds);
  }
}

/** The label child kept under `key`, made on first use. */
function labelChild<T>(children: Map<string, T>, key: string, make: () => T): T {
  let child = children.get(key);
  if (child === undefined) {
    child = make();
    children.set(key, child);
  }
  return child;
}
