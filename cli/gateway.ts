import { createLogger } from '../lib/logger.ts';
import { closeOnSignals } from '../lib/server.ts';
import { listenAddress, loadGatewayConfig } from '../proxy/config.ts';
import { addressInUse } from '../proxy/errors.ts';
import { startGateway } from '../proxy/server.ts';
import { parseCommandArgs, parsePort, UsageError } from './args.ts';

/** `next-image gateway --config <file.json> [--host] [--port] [--admin-port]` */
export async function runGateway(argv: string[]): Promise<void> {
  const { values } = parseCommandArgs(argv, {
    config: { type: 'string', short: 'c' },
    host: { type: 'string' },
    port: { type: 'string' },
    'admin-port': { type: 'string' },
  });
  if (typeof values.config !== 'string') throw new UsageError('--config <file.json> is required');
  const config = await loadGatewayConfig(values.config);
  const host = typeof values.host === 'string' ? values.host : undefined;
  const address = listenAddress(config, { host, port: parsePort(values.port) });
  const logger = createLogger('gateway', config.server?.logger?.level ?? 'info');
  const adminPort = parsePort(values['admin-port'], '--admin-port');
  const gateway = await startGateway(config, {
    ...address,
    logger,
    ...(adminPort === undefined ? {} : { adminPort }),
  }).catch((error: unknown) => {
    const inUse = addressInUse(error);
    throw inUse === undefined ? error : new UsageError(`${inUse} (--port, --admin-port)`);
  });
  closeOnSignals([gateway], config.shutdownGraceMs, logger);
}
