import { pino, type Logger } from 'pino';

export type { Logger };

/** The one pino logger of a process: JSON to stdout, secrets redacted. */
export function createLogger(name: string, level = 'info'): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'password', '*.password', 'url.password'],
      censor: '[redacted]',
    },
  });
}
