import cluster, { type Worker } from 'node:cluster';
import { once } from 'node:events';
import { AggregatorRegistry } from 'prom-client';
import type { GatewayConfig } from '../api/gateway-config.ts';
import type { Logger } from '../lib/logger.ts';
import type { RunningServer } from '../lib/server.ts';
import { WorkerStartError } from './errors.ts';
import { checkGatewayConfig, type RunningGateway, startAdmin, startGateway } from './server.ts';

// Messages between the primary and its workers.
const LISTENING = 'next-image:gateway-listening';
const SHUTDOWN = 'next-image:gateway-shutdown';

interface ListeningMessage {
  type: typeof LISTENING;
  url: string;
  port: number;
}

const isListening = (message: unknown): message is ListeningMessage =>
  typeof message === 'object' &&
  message !== null &&
  (message as { type?: unknown }).type === LISTENING;

/** True in a process forked by `startGatewayCluster`. */
export function isGatewayWorker(): boolean {
  return cluster.isWorker;
}

/**
 * A cluster worker: serves the gateway on the port the primary shares, reports when it
 * listens, and drains and exits when the primary says so.
 */
export async function runGatewayWorker(
  config: GatewayConfig,
  options: { host: string; port: number; logger: Logger },
): Promise<RunningGateway> {
  const gateway = await startGateway(config, { ...options, clusterWorker: true });
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    gateway.close().then(
      () => process.exit(0),
      (error: unknown) => {
        options.logger.error({ err: error }, 'error while shutting down a gateway worker');
        process.exit(1);
      },
    );
  };
  process.on('message', (message: unknown) => {
    if ((message as { type?: unknown } | undefined)?.type === SHUTDOWN) stop();
  });
  // The primary decides when to stop (Ctrl-C reaches the whole process group); a worker whose
  // primary is gone stops by itself.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => {});
  process.on('disconnect', stop);
  process.send?.({
    type: LISTENING,
    url: gateway.url,
    port: gateway.port,
  } satisfies ListeningMessage);
  return gateway;
}

/**
 * Runs the gateway in `workers` processes sharing one port (node:cluster hands each new
 * connection to a worker), so one gateway can use several cores. The primary serves the admin
 * listener: ready while every worker listens, /metrics summed over the workers. A worker
 * that dies is replaced. `close()` drains every worker, then stops the admin listener.
 */
export async function startGatewayCluster(
  config: GatewayConfig,
  options: { host: string; port: number; workers: number; logger: Logger; adminPort?: number },
): Promise<RunningGateway> {
  const { logger } = options;
  const upstreams = checkGatewayConfig(config);
  const aggregator = new AggregatorRegistry();
  const listening = new Set<Worker>();
  let closing = false;
  let started = false;
  let url = '';
  let port = 0;

  const fork = (): Worker => {
    const worker = cluster.fork();
    worker.on('message', (message: unknown) => {
      if (!isListening(message)) return;
      listening.add(worker);
      url = message.url;
      port = message.port;
    });
    worker.on('exit', (code, signal) => {
      listening.delete(worker);
      if (closing || !started) return;
      logger.error(
        { worker: worker.process.pid, code, signal },
        'gateway worker died; starting another',
      );
      fork();
    });
    return worker;
  };

  const workers = Array.from({ length: options.workers }, fork);
  // Workers inherit the command line; the first listen(0) picks the port all of them share.
  const outcomes = await Promise.all(
    workers.map((worker) =>
      Promise.race([
        once(worker, 'message').then(() => 'listening'),
        once(worker, 'exit').then(() => 'exited'),
      ]),
    ),
  );
  if (outcomes.includes('exited')) {
    closing = true;
    for (const worker of workers) worker.kill();
    throw new WorkerStartError();
  }
  started = true;

  let admin: RunningServer;
  try {
    admin = await startAdmin(config, {
      host: options.host,
      ...(options.adminPort === undefined ? {} : { port: options.adminPort }),
      logger,
      metrics: { contentType: aggregator.contentType, metrics: () => aggregator.clusterMetrics() },
      isReady: () => !closing && listening.size === options.workers,
    });
  } catch (error: unknown) {
    closing = true;
    for (const worker of workers) worker.kill();
    throw error;
  }
  logger.info(
    { url, admin: admin.url, workers: options.workers, upstreams: Object.fromEntries(upstreams) },
    'gateway listening',
  );

  return {
    url,
    port,
    adminUrl: admin.url,
    adminPort: admin.port,
    upstreams,
    close: async () => {
      closing = true;
      const alive = Object.values(cluster.workers ?? {}).filter(
        (w): w is Worker => w !== undefined,
      );
      await Promise.all(
        alive.map(async (worker) => {
          const exited = once(worker, 'exit');
          worker.send({ type: SHUTDOWN });
          await exited;
        }),
      );
      await admin.close();
    },
  };
}
