import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import {
  commandClientOptions,
  redactedUrl,
  redisConnectionOptions,
  subscriberClientOptions,
} from './redis-options.ts';
import type { StorageState } from './types.ts';

/** How often a ready connection is checked with PING. */
const HEALTH_INTERVAL_MS = 1_000;

export interface RedisConnectionOptions {
  url: string;
  db?: number;
  logger: Logger;
  /** Channels to subscribe to, and what to do with their messages. */
  channels: Record<string, (message: string) => void>;
  /** Called when the pub/sub connection comes back after a loss (messages may have been missed). */
  onMessagesMissed?: () => void;
}

/**
 * The two connections of a store — commands, and pub/sub — with their health. While the
 * command connection is down the store serves without Redis; ioredis reconnects with back-off
 * and the state change is logged once each way (never each failed attempt).
 */
export class RedisConnection {
  readonly client: Redis;
  readonly #subscriber: Redis;
  readonly #logger: Logger;
  readonly #where: string;
  #state: StorageState | 'starting' = 'starting';
  #closed = false;
  #restarting = false;
  readonly #health: NodeJS.Timeout;

  constructor(options: RedisConnectionOptions) {
    const base = redisConnectionOptions(options.url, options.db);
    this.#logger = options.logger;
    this.#where = redactedUrl(options.url);
    this.client = new Redis(commandClientOptions(base));
    this.#subscriber = new Redis(subscriberClientOptions(base));
    this.client.on('ready', () => {
      this.#restarting = false;
      this.#set('ok');
    });
    this.client.on('close', () => this.#set('degraded'));
    this.client.on('error', (error: Error) => this.#set('degraded', error));
    // The subscriber's own errors surface as the command connection's state; drop them here.
    this.#subscriber.on('error', () => undefined);
    const handlers = new Map(Object.entries(options.channels));
    this.#subscriber.on('message', (channel: string, message: string) =>
      handlers.get(channel)?.(message),
    );
    this.#subscriber.subscribe(...handlers.keys()).catch(() => undefined);
    let subscribedBefore = false;
    this.#subscriber.on('ready', () => {
      if (subscribedBefore) options.onMessagesMissed?.();
      subscribedBefore = true;
    });
    // A Redis that hangs (rather than closing the socket) leaves ioredis "ready": a failing
    // PING notices it, so requests stop paying the command timeout each.
    this.#health = setInterval(() => {
      if (this.client.status === 'ready')
        this.client.ping().catch((error: unknown) => this.noteFailure(error));
    }, HEALTH_INTERVAL_MS);
    this.#health.unref();
  }

  /**
   * Tells the connection that a command failed. A timeout means Redis hangs: drop the socket
   * so the store turns degraded at once and ioredis reconnects with back-off.
   */
  noteFailure(error: unknown): void {
    if (this.#closed || this.#restarting) return;
    if (!(error instanceof Error) || !/timed out/i.test(error.message)) return;
    this.#restarting = true;
    this.#set('degraded', error);
    this.client.disconnect(true);
  }

  /** True when commands can be sent now. */
  get ready(): boolean {
    return this.#state === 'ok' && this.client.status === 'ready';
  }

  state(): StorageState {
    return this.ready ? 'ok' : 'degraded';
  }

  /** Quits both connections (gives up after a moment if Redis does not answer). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#health);
    await Promise.all([quit(this.client), quit(this.#subscriber)]);
  }

  /** Drops both connections at once, as a crash would (tests simulate a dead replica with it). */
  destroy(): void {
    this.#closed = true;
    clearInterval(this.#health);
    this.client.disconnect();
    this.#subscriber.disconnect();
  }

  #set(next: StorageState, error?: Error): void {
    if (this.#closed || next === this.#state) return;
    const first = this.#state === 'starting';
    this.#state = next;
    if (next === 'ok') {
      this.#logger.info(
        { redis: this.#where },
        first ? 'redis connected' : 'redis reachable again; shared cache back',
      );
    } else {
      this.#logger.warn(
        { redis: this.#where, err: error?.message },
        'redis unreachable; serving from the in-process tier and own work, reconnecting',
      );
    }
  }
}

async function quit(client: Redis): Promise<void> {
  const timer = new Promise<void>((resolve) => setTimeout(resolve, 1_000).unref());
  await Promise.race([client.quit().catch(() => undefined), timer]);
  client.disconnect();
}
