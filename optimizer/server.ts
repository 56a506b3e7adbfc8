import type { OptimizerConfig } from '../api/optimizer-config.ts';
import { createLogger, type Logger } from '../lib/logger.ts';
import { listen, type RunningServer } from '../lib/server.ts';
import { buildOptimizerApp } from './app.ts';

/** Builds the optimizer and listens; `port: 0` picks a free port. */
export async function startOptimizer(
  config: OptimizerConfig,
  opts: { host: string; port: number; logger?: Logger },
): Promise<RunningServer> {
  const logger = opts.logger ?? createLogger('optimizer', config.server?.logger?.level ?? 'info');
  const { app } = buildOptimizerApp(config, logger);
  if (config.next.imageOptimizer.ttl !== undefined) {
    logger.warn(
      'next.imageOptimizer.ttl has no effect here: results are cached for max(minimumCacheTTL, upstream max-age)',
    );
  }
  return listen(app, opts.host, opts.port);
}
