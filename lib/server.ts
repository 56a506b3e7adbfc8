import type { FastifyInstance } from 'fastify';
import type { Logger } from './logger.ts';

/** A listening server and how to stop it. */
export interface RunningServer {
  /** Base URL, e.g. http://127.0.0.1:3001 */
  url: string;
  port: number;
  /** Stops accepting, lets in-flight requests finish, closes resources. */
  close(): Promise<void>;
}

/**
 * Once the app starts closing, every response carries `Connection: close`, so keep-alive
 * clients of in-flight requests let go and the graceful close does not wait for them.
 * Call before the app is ready.
 */
export function releaseKeepAliveOnClose(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  // A callback hook, not an async one: this runs on every response, and a promise per
  // response is measurable on a proxy hop.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('Connection', 'close');
    done(null, payload);
  });
}

/** Listens on host:port (port 0 = any free port) and returns how to reach and stop it. */
export async function listen(
  app: FastifyInstance,
  host: string,
  port: number,
  scheme: 'http' | 'https' = 'http',
): Promise<RunningServer> {
  await app.listen({ host, port });
  const address = app.server.address();
  const actualPort = typeof address === 'object' && address !== null ? address.port : port;
  const hostForUrl = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    url: `${scheme}://${hostForUrl}:${actualPort}`,
    port: actualPort,
    close: () => app.close(),
  };
}

/**
 * Closes `servers` on SIGTERM/SIGINT within `graceMs`, then exits 0 (1 if closing failed or
 * the grace period ran out). Returns a function that removes the handlers.
 */
export function closeOnSignals(
  servers: Array<{ close(): Promise<void> }>,
  graceMs: number,
  logger: Logger,
): () => void {
  let closing = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (closing) return;
    closing = true;
    logger.info({ signal, graceMs }, 'shutting down: no new connections, finishing in-flight work');
    const timer = setTimeout(() => {
      logger.error({ graceMs }, 'grace period over; exiting with work still in flight');
      process.exit(1);
    }, graceMs);
    timer.unref();
    Promise.all(servers.map((s) => s.close())).then(
      () => {
        clearTimeout(timer);
        logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
}
