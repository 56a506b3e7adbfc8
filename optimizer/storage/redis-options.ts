import type { RedisOptions } from 'ioredis';
import { StorageConfigError } from './errors.ts';

/** Defaults for the redis/valkey store, in one place. */
export const REDIS_DEFAULTS = {
  /** A command that gets no answer within this fails, and the store serves without Redis. */
  commandTimeoutMs: 2_000,
  connectTimeoutMs: 5_000,
  /** Reconnect back-off: attempt × step, capped. */
  reconnectStepMs: 200,
  reconnectMaxMs: 5_000,
} as const;

/** Reconnect delay for attempt `times` (1-based): linear back-off with a cap and some jitter. */
export function reconnectDelay(times: number, random: () => number = Math.random): number {
  const base = Math.min(times * REDIS_DEFAULTS.reconnectStepMs, REDIS_DEFAULTS.reconnectMaxMs);
  return Math.round(base * (0.8 + 0.4 * random()));
}

/**
 * ioredis options for a redis://, rediss://, valkey:// or valkeys:// URL. `db` overrides the
 * URL's database (as in Platformatic); a user and password in the URL are used (URL-decoded);
 * the `s` schemes turn TLS on with SNI set to the host.
 */
export function redisConnectionOptions(url: string, db?: number): RedisOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error: unknown) {
    throw new StorageConfigError('storage.url is not a valid URL', { cause: error });
  }
  const tls = parsed.protocol === 'rediss:' || parsed.protocol === 'valkeys:';
  if (!tls && parsed.protocol !== 'redis:' && parsed.protocol !== 'valkey:') {
    throw new StorageConfigError(
      'storage.url must be a redis://, rediss://, valkey:// or valkeys:// URL',
    );
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  const pathDb = parsed.pathname.replace(/^\//, '');
  if (pathDb !== '' && !/^\d+$/.test(pathDb)) {
    throw new StorageConfigError(`storage.url names database "${pathDb}"; use a number such as /0`);
  }
  const options: RedisOptions = {
    host,
    port: parsed.port === '' ? 6379 : Number(parsed.port),
    db: db ?? (pathDb === '' ? 0 : Number(pathDb)),
  };
  if (parsed.username !== '') options.username = decodeURIComponent(parsed.username);
  if (parsed.password !== '') options.password = decodeURIComponent(parsed.password);
  if (tls) options.tls = { servername: host };
  return options;
}

/** The options of the store's command connection: fail fast while disconnected, reconnect forever. */
export function commandClientOptions(base: RedisOptions): RedisOptions {
  return {
    ...base,
    // Queued commands would make requests wait for Redis; failing at once lets them go on without it.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: REDIS_DEFAULTS.commandTimeoutMs,
    connectTimeout: REDIS_DEFAULTS.connectTimeoutMs,
    retryStrategy: (times: number) => reconnectDelay(times),
    lazyConnect: false,
  };
}

/** The options of the pub/sub connection: subscriptions wait for the connection and are renewed. */
export function subscriberClientOptions(base: RedisOptions): RedisOptions {
  return {
    ...base,
    enableOfflineQueue: true,
    maxRetriesPerRequest: null,
    connectTimeout: REDIS_DEFAULTS.connectTimeoutMs,
    retryStrategy: (times: number) => reconnectDelay(times),
    autoResubscribe: true,
  };
}

/** A URL fit for logs: the password replaced. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '[invalid url]';
  }
}
