import { Counter, Gauge, type Registry } from 'prom-client';
import type { StorageState } from './types.ts';

/** What a store reports; every method is a no-op when no registry was given. */
export interface StorageMetrics {
  /** A caller waited for another replica's lease instead of producing. */
  leaseWait(): void;
  /** A lease ran out without a result (holder died) and this replica took over. */
  leaseTakeover(): void;
  /** This replica ran `produce` for a cluster-wide flight. */
  flightLed(): void;
  /** A purge removed `entries` entries. */
  purged(entries: number): void;
  /** A storage operation failed (the request was still served, from the tiers that worked). */
  failed(operation: StorageOperation): void;
}

/** The operations whose failures are counted: a fixed set, so the label stays bounded. */
export type StorageOperation = 'read' | 'write' | 'purge';

/** What the gauges read at scrape time. */
export interface StorageGaugeSource {
  type: string;
  state(): StorageState;
  memoryTierBytes(): number;
}

const NOOP: StorageMetrics = {
  leaseWait() {},
  leaseTakeover() {},
  flightLed() {},
  purged() {},
  failed() {},
};

/** Returns the metric named `name` in `registry`, creating it on first use (one per registry). */
function single<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

/** Counter of purge requests by result; shared by the store and the purge route. */
export function purgeRequestsCounter(registry: Registry): Counter<'result'> {
  const name = 'next_image_purge_requests_total';
  return single(
    registry,
    name,
    () =>
      new Counter({
        name,
        help: 'Purge requests by result (ok, unauthorized, bad_request, unavailable)',
        labelNames: ['result'],
        registers: [registry],
      }),
  );
}

/** Registers the storage metrics in `registry` (once per registry) and returns their recorders. */
export function createStorageMetrics(
  registry: Registry | undefined,
  source: StorageGaugeSource,
): StorageMetrics {
  if (registry === undefined) return NOOP;
  const counter = (name: string, help: string): Counter =>
    single(registry, name, () => new Counter({ name, help, registers: [registry] }));
  single(registry, 'next_image_storage_up', () => {
    return new Gauge({
      name: 'next_image_storage_up',
      help: 'Storage backend reachable (1) or degraded (0), by storage type',
      labelNames: ['type'],
      registers: [registry],
      collect() {
        this.set({ type: source.type }, source.state() === 'ok' ? 1 : 0);
      },
    });
  });
  single(registry, 'next_image_storage_memory_tier_bytes', () => {
    return new Gauge({
      name: 'next_image_storage_memory_tier_bytes',
      help: 'Bytes held by the in-process cache tier',
      registers: [registry],
      collect() {
        this.set(source.memoryTierBytes());
      },
    });
  });
  const waits = counter(
    'next_image_storage_lease_waits_total',
    'Flights that waited for another replica',
  );
  const takeovers = counter(
    'next_image_storage_lease_takeovers_total',
    'Leases that expired without a result and were taken over',
  );
  const led = counter(
    'next_image_storage_flights_led_total',
    'Cluster-wide flights this replica produced',
  );
  const purgedEntries = counter(
    'next_image_storage_purged_entries_total',
    'Cache entries removed by purges',
  );
  const errors = single(
    registry,
    'next_image_storage_errors_total',
    () =>
      new Counter({
        name: 'next_image_storage_errors_total',
        help: 'Storage operations that failed, by operation (read, write, purge)',
        labelNames: ['operation'],
        registers: [registry],
      }),
  );
  return {
    failed: (operation) => errors.inc({ operation }),
    leaseWait: () => waits.inc(),
    leaseTakeover: () => takeovers.inc(),
    flightLed: () => led.inc(),
    purged: (entries) => purgedEntries.inc(entries),
  };
}
