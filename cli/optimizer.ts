import { createLogger } from '../lib/logger.ts';
import { closeOnSignals } from '../lib/server.ts';
import { listenAddress, loadOptimizerConfig } from '../optimizer/config.ts';
import { startOptimizer } from '../optimizer/server.ts';
import { parseCommandArgs, parsePort, UsageError } from './args.ts';

/** `next-image optimizer --config <file.json> [--host] [--port]` */
/** The flags `next-image optimizer` accepts (cli/help.ts describes each). */
export const OPTIMIZER_FLAGS = {
  config: { type: 'string', short: 'c' },
  host: { type: 'string' },
  port: { type: 'string' },
} as const;

export async function runOptimizer(argv: string[]): Promise<void> {
  const { values } = parseCommandArgs(argv, OPTIMIZER_FLAGS);
  if (typeof values.config !== 'string') throw new UsageError('--config <file.json> is required');
  const warnings: string[] = [];
  const config = await loadOptimizerConfig(values.config, (w) => warnings.push(w));
  const host = typeof values.host === 'string' ? values.host : undefined;
  const address = listenAddress(config, { host, port: parsePort(values.port) });
  const logger = createLogger('optimizer', config.server?.logger?.level ?? 'info');
  for (const warning of warnings) logger.warn(warning);
  const server = await startOptimizer(config, { ...address, logger });
  logger.info({ url: server.url }, 'optimizer listening');
  closeOnSignals([server], config.optimizer.shutdownGraceMs, logger);
}
