import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../lib/logger.ts';
import { listen, type RunningServer } from '../lib/server.ts';
import type { OperatorConfig } from './config.ts';
import { Controller } from './controller.ts';
import { EventRecorder } from './events.ts';
import { buildHealthApp, buildMetricsApp } from './health-server.ts';
import { Caches } from './kube/caches.ts';
import { KubeClient } from './kube/client.ts';
import { LeaderElector } from './leader-election.ts';
import { createMetrics, type OperatorMetrics } from './metrics.ts';
import { MetricsAuthorizer } from './metrics-auth.ts';
import { loadMetricsTls } from './metrics-tls.ts';
import { Reconciler } from './reconcile.ts';

/** A running operator. */
export interface RunningOperator {
  health: RunningServer;
  metrics: RunningServer;
  metricsRegistry: OperatorMetrics;
  controller: Controller;
  caches: Caches;
  isLeader(): boolean;
  /** Resolves when the operator has stopped on its own (leadership lost); rejects never. */
  readonly lost: Promise<Error>;
  /** Finishes reconciles in flight, releases the Lease, stops informers and servers. */
  stop(): Promise<void>;
}

/**
 * Starts the operator: informers (on every replica, so a standby is warm), health and metrics
 * servers, and — once leader, or at once without leader election — the reconcile workers.
 */
export async function startOperator(
  config: OperatorConfig,
  kc: KubeConfig,
  logger: Logger,
): Promise<RunningOperator> {
  const client = new KubeClient(kc);
  const metrics = createMetrics();
  const caches = new Caches(kc, client, config.namespaces, logger);
  const events = new EventRecorder(client, 'next-image-operator', config.identity, logger);
  const reconciler = new Reconciler({
    client,
    caches,
    events,
    logger,
    render: {
      image: config.image,
      valkeyImage: config.valkeyImage,
      clusterDomain: config.clusterDomain,
    },
  });
  const controller = new Controller({
    caches,
    reconciler,
    metrics,
    logger,
    workers: config.workers,
    resyncSeconds: config.resyncSeconds,
  });
  const health = await listen(
    buildHealthApp({
      unsynced: () => caches.informers.filter((i) => !i.synced).map((i) => i.name),
    }),
    config.bindAddress,
    config.healthPort,
  );
  const security = config.metricsSecure
    ? {
        tls: await loadMetricsTls(config.metricsCertDir, ['localhost', '127.0.0.1', '::1']),
        authorizer: new MetricsAuthorizer(client),
      }
    : undefined;
  if (security === undefined)
    logger.warn(
      'metrics are served over plain HTTP without authentication (--metrics-secure false)',
    );
  const metricsServer = await listen(
    buildMetricsApp(metrics.registry, security),
    config.bindAddress,
    config.metricsPort,
    security === undefined ? 'http' : 'https',
  );
  const synced = caches.start();

  let leading = false;
  let resolveLost: (error: Error) => void = () => {};
  const lost = new Promise<Error>((resolve) => {
    resolveLost = resolve;
  });
  const lead = (): void => {
    leading = true;
    metrics.leaderStatus.set({ name: config.leaseName }, 1);
    // Reconcile from a complete cache only, or pruning could delete what it has not seen yet.
    void synced.then(() => {
      if (leading) controller.start();
    });
  };
  metrics.leaderStatus.set({ name: config.leaseName }, 0);
  let elector: LeaderElector | undefined;
  if (config.leaderElection) {
    elector = new LeaderElector({
      client,
      namespace: config.leaseNamespace,
      name: config.leaseName,
      identity: config.identity,
      leaseDurationSeconds: config.leaseDurationSeconds,
      renewDeadlineSeconds: config.renewDeadlineSeconds,
      retryPeriodSeconds: config.retryPeriodSeconds,
      logger,
    });
    void elector.run(lead, (error) => {
      leading = false;
      metrics.leaderStatus.set({ name: config.leaseName }, 0);
      logger.error({ err: error.message }, 'leadership lost');
      void controller.stop().then(() => resolveLost(error));
    });
  } else {
    lead();
  }

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      leading = false;
      await controller.stop();
      await elector?.stop();
      await caches.stop();
      await Promise.all([health.close(), metricsServer.close()]);
    })();
    return stopping;
  };
  return {
    health,
    metrics: metricsServer,
    metricsRegistry: metrics,
    controller,
    caches,
    isLeader: () => leading,
    lost,
    stop,
  };
}
