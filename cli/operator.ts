import { KubeConfig } from '@kubernetes/client-node';
import { ZodError } from 'zod';
import { formatIssues } from '../lib/config-file.ts';
import { createLogger } from '../lib/logger.ts';
import { loadOperatorConfig, OPERATOR_FLAGS, type OperatorConfig } from '../operator/config.ts';
import { startOperator } from '../operator/manager.ts';
import { parseCommandArgs, UsageError } from './args.ts';

function config(argv: string[]): OperatorConfig {
  const { values } = parseCommandArgs(argv, OPERATOR_FLAGS);
  try {
    return loadOperatorConfig(values);
  } catch (error: unknown) {
    if (error instanceof ZodError) throw new UsageError(formatIssues(error.issues).join('; '));
    throw error;
  }
}

/** `next-image operator`: reconciles ImageOptimizers until SIGTERM (exit 0) or leadership is lost (exit 1). */
export async function runOperator(argv: string[]): Promise<void> {
  const cfg = config(argv);
  const logger = createLogger('next-image-operator', cfg.logLevel);
  const kc = new KubeConfig();
  if (cfg.kubeconfig !== undefined) kc.loadFromFile(cfg.kubeconfig);
  else kc.loadFromDefault();
  const operator = await startOperator(cfg, kc, logger);
  logger.info(
    {
      health: operator.health.url,
      metrics: operator.metrics.url,
      namespaces: cfg.namespaces.length === 0 ? 'all' : cfg.namespaces,
      leaderElection: cfg.leaderElection,
    },
    'operator started',
  );
  const onSignal = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, 'stopping: finishing reconciles in flight and releasing the lease');
    operator.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error(
          { err: error instanceof Error ? error.message : String(error) },
          'error while stopping',
        );
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  await operator.lost;
  // A replica that lost its lease may hold a stale view; restarting is the safe way back.
  process.exit(1);
}
