import { createLogger } from '../lib/logger.ts';
import { closeOnSignals } from '../lib/server.ts';
import { isGatewayWorker, runGatewayWorker, startGatewayCluster } from '../proxy/cluster.ts';
import { listenAddress, loadGatewayConfig } from '../proxy/config.ts';
import { addressInUse, WorkerStartError } from '../proxy/errors.ts';
import { type RunningGateway, startGateway } from '../proxy/server.ts';
import { parseCommandArgs, parsePort, UsageError } from './args.ts';

/** `next-image gateway --config <file.json> [--host] [--port] [--admin-port] [--workers]` */
/** The flags `next-image gateway` accepts (cli/help.ts describes each). */
export const GATEWAY_FLAGS = {
  config: { type: 'string', short: 'c' },
  host: { type: 'string' },
  port: { type: 'string' },
  'admin-port': { type: 'string' },
  workers: { type: 'string' },
} as const;

export async function runGateway(argv: string[]): Promise<void> {
  const { values } = parseCommandArgs(argv, GATEWAY_FLAGS);
  if (typeof values.config !== 'string') throw new UsageError('--config <file.json> is required');
  const config = await loadGatewayConfig(values.config);
  const host = typeof values.host === 'string' ? values.host : undefined;
  const address = listenAddress(config, { host, port: parsePort(values.port) });
  const logger = createLogger('gateway', config.server?.logger?.level ?? 'info');
  const adminPort = parsePort(values['admin-port'], '--admin-port');
  const workers = parseWorkers(values.workers) ?? config.workers;

  if (isGatewayWorker()) {
    // A forked worker: the primary owns signals and the admin listener.
    await runGatewayWorker(config, { ...address, logger }).catch((error: unknown) => {
      process.stderr.write(`next-image gateway worker: ${addressInUse(error) ?? String(error)}\n`);
      process.exit(2);
    });
    return;
  }
  const options = { ...address, logger, ...(adminPort === undefined ? {} : { adminPort }) };
  const start = (): Promise<RunningGateway> =>
    workers > 1
      ? startGatewayCluster(config, { ...options, workers })
      : startGateway(config, options);
  const gateway = await start().catch((error: unknown) => {
    const inUse = addressInUse(error);
    if (inUse !== undefined) throw new UsageError(`${inUse} (--port, --admin-port)`);
    if (error instanceof WorkerStartError) throw new UsageError(error.message);
    throw error;
  });
  closeOnSignals([gateway], config.shutdownGraceMs, logger);
}

function parseWorkers(value: string | boolean | undefined): number | undefined {
  if (value === undefined || typeof value === 'boolean') return undefined;
  if (!/^[1-9][0-9]?$/.test(value) || Number(value) > 64) {
    throw new UsageError(`--workers must be a number from 1 to 64, got "${value}"`);
  }
  return Number(value);
}
