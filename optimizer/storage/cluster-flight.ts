import { ImageError } from '../errors.ts';
import type { CachedImage } from '../types.ts';
import type { EntryMeta } from './entry-format.ts';
import type { StorageMetrics } from './metrics.ts';
import type { KeyedNotifier, Listener } from './notifier.ts';
import type { RedisConnection } from './redis-connection.ts';
import { readEntry, readMeta } from './redis-entries.ts';
import type { RedisKeys } from './redis-keys.ts';
import { type HeldLease, tryLease } from './redis-lease.ts';

/** What a cluster-wide flight needs from its store. */
export interface ClusterFlightContext {
  connection: RedisConnection;
  keys: RedisKeys;
  notifier: KeyedNotifier;
  metrics: StorageMetrics;
  leaseMs: number;
  pollMs: number;
  failureTtlMs: number;
  /** Keeps an entry read from Redis in the in-process tier. */
  adopt(key: string, entry: CachedImage, href: string): void;
  /** Makes sure the leader's result is in Redis before waiters are told (if `produce` did not `set` it). */
  ensureSaved(key: string, entry: CachedImage): Promise<void>;
  /** True once the store was destroyed (a simulated crash): the leader then leaves no trace. */
  destroyed(): boolean;
}

/** A client error the leader ended with, shared so waiters fail the same way instead of retrying. */
interface SharedFailure {
  t: string;
  statusCode: number;
  message: string;
  code: string;
}

type WaitOutcome =
  | { kind: 'entry'; entry: CachedImage }
  | { kind: 'again'; holderGone: boolean }
  | { kind: 'local' };

/**
 * Runs `produce` once per key across every replica on one Redis: the replica that takes the
 * lease produces and stores the result; the others wait for its message (or poll) and read
 * the result from Redis. When the holder dies its lease runs out and a waiter takes over.
 * Whenever Redis fails, the caller produces by itself: storage never fails a request.
 */
export async function clusterFlight(
  key: string,
  produce: () => Promise<CachedImage>,
  signal: AbortSignal,
  ctx: ClusterFlightContext,
): Promise<CachedImage> {
  if (!ctx.connection.ready) return produce();
  let snapshot: EntryMeta | undefined;
  try {
    snapshot = await readMeta(ctx.connection.client, ctx.keys, key);
    if (snapshot !== undefined && snapshot.expireAt > Date.now()) {
      const found = await readEntry(ctx.connection.client, ctx.keys, key);
      if (found !== undefined) {
        ctx.adopt(key, found.entry, found.href);
        return found.entry;
      }
    }
  } catch (error: unknown) {
    ctx.connection.noteFailure(error);
    return produce();
  }
  // Listen before the first look at the lease, so an end that comes in between is not missed.
  const listener = ctx.notifier.listen(key);
  try {
    let waited = false;
    let holderGone = false;
    for (;;) {
      signal.throwIfAborted();
      let lease: HeldLease | undefined;
      let holder: string | null = null;
      try {
        lease = await tryLease(ctx.connection.client, ctx.keys.lease(key), ctx.leaseMs);
        if (lease === undefined) holder = await ctx.connection.client.get(ctx.keys.lease(key));
      } catch (error: unknown) {
        ctx.connection.noteFailure(error);
        return await produce();
      }
      if (lease !== undefined) {
        if (holderGone) ctx.metrics.leaseTakeover();
        return await lead(key, lease, produce, snapshot, ctx);
      }
      if (holder === null) continue;
      if (!waited) {
        waited = true;
        ctx.metrics.leaseWait();
      }
      const outcome = await waitForHolder(key, holder, snapshot, listener, signal, ctx);
      if (outcome.kind === 'entry') return outcome.entry;
      if (outcome.kind === 'local') return await produce();
      holderGone = outcome.holderGone;
    }
  } finally {
    listener.close();
  }
}

/** True when `meta` is a result written since the flight began (not the entry seen at its start). */
function isNewResult(
  meta: EntryMeta | undefined,
  snapshot: EntryMeta | undefined,
): meta is EntryMeta {
  if (meta === undefined) return false;
  if (snapshot === undefined || meta.expireAt > Date.now()) return true;
  return meta.etag !== snapshot.etag || meta.expireAt !== snapshot.expireAt;
}

async function lead(
  key: string,
  lease: HeldLease,
  produce: () => Promise<CachedImage>,
  snapshot: EntryMeta | undefined,
  ctx: ClusterFlightContext,
): Promise<CachedImage> {
  const client = ctx.connection.client;
  // A result may have landed between the caller's miss and this lease: do not make it twice.
  const landed = await readMeta(client, ctx.keys, key).catch(() => undefined);
  if (isNewResult(landed, snapshot)) {
    const found = await readEntry(client, ctx.keys, key).catch(() => undefined);
    if (found !== undefined) {
      await lease.release();
      ctx.adopt(key, found.entry, found.href);
      return found.entry;
    }
  }
  ctx.metrics.flightLed();
  let entry: CachedImage;
  try {
    entry = await produce();
  } catch (error: unknown) {
    if (ctx.destroyed()) {
      lease.abandon();
      throw error;
    }
    const failure = sharedFailure(error, lease.token);
    if (failure !== undefined) {
      await client
        .set(ctx.keys.failure(key), JSON.stringify(failure), 'PX', ctx.failureTtlMs)
        .catch(() => undefined);
    }
    await lease.release();
    await client
      .publish(ctx.keys.flightChannel, JSON.stringify({ k: key, t: lease.token }))
      .catch(() => undefined);
    throw error;
  }
  if (ctx.destroyed()) {
    lease.abandon();
    return entry;
  }
  await ctx.ensureSaved(key, entry);
  await lease.release();
  await client
    .publish(ctx.keys.flightChannel, JSON.stringify({ k: key, t: lease.token }))
    .catch(() => undefined);
  return entry;
}

/** Waits until the holder's flight ends (message or poll), its lease changes hands, or `signal` aborts. */
async function waitForHolder(
  key: string,
  holder: string,
  snapshot: EntryMeta | undefined,
  listener: Listener,
  signal: AbortSignal,
  ctx: ClusterFlightContext,
): Promise<WaitOutcome> {
  const client = ctx.connection.client;
  for (;;) {
    await listener.wait(ctx.pollMs, signal);
    let failure: SharedFailure | undefined;
    try {
      failure = parseFailure(await client.get(ctx.keys.failure(key)));
      if (failure === undefined || failure.t !== holder) {
        failure = undefined;
        const meta = await readMeta(client, ctx.keys, key);
        if (isNewResult(meta, snapshot)) {
          const found = await readEntry(client, ctx.keys, key);
          if (found !== undefined) {
            ctx.adopt(key, found.entry, found.href);
            return { kind: 'entry', entry: found.entry };
          }
        }
        const current = await client.get(ctx.keys.lease(key));
        if (current !== holder) return { kind: 'again', holderGone: current === null };
      }
    } catch (error: unknown) {
      ctx.connection.noteFailure(error);
      return { kind: 'local' };
    }
    if (failure !== undefined)
      throw new ImageError(failure.statusCode, failure.message, failure.code);
  }
}

/** The failure to share with waiters: client-visible image errors, except "this replica is busy". */
function sharedFailure(error: unknown, token: string): SharedFailure | undefined {
  if (!(error instanceof ImageError) || error.statusCode === 503) return undefined;
  return { t: token, statusCode: error.statusCode, message: error.message, code: error.code };
}

function parseFailure(text: string | null): SharedFailure | undefined {
  if (text === null) return undefined;
  try {
    const raw = JSON.parse(text) as Partial<SharedFailure>;
    const valid =
      typeof raw.t === 'string' &&
      typeof raw.statusCode === 'number' &&
      typeof raw.message === 'string' &&
      typeof raw.code === 'string';
    return valid ? (raw as SharedFailure) : undefined;
  } catch {
    return undefined;
  }
}
