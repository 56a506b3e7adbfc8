import { LogController } from 'fastify';
import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger };

/** The one pino logger of a process: JSON to stdout (or `destination`), secrets redacted. */
export function createLogger(
  name: string,
  level = 'info',
  destination?: DestinationStream,
): Logger {
  const options = {
    name,
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'password',
        '*.password',
        'url.password',
      ],
      censor: '[redacted]',
    },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}

/** Fastify option that turns off per-request log lines (we log failures ourselves). */
export function quietRequestLogging(): { logController: InstanceType<typeof LogController> } {
  return { logController: new LogController({ disableRequestLogging: true }) };
}
