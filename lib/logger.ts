import { LogController } from 'fastify';
import { type Logger, pino } from 'pino';

export type { Logger };

/** The one pino logger of a process: JSON to stdout, secrets redacted. */
export function createLogger(name: string, level = 'info'): Logger {
  return pino({
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
  });
}

/** Fastify option that turns off per-request log lines (we log failures ourselves). */
export function quietRequestLogging(): { logController: InstanceType<typeof LogController> } {
  return { logController: new LogController({ disableRequestLogging: true }) };
}
