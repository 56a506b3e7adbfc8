import type { ChainableCommander, Redis } from 'ioredis';
import { MAX_CACHE_SECONDS } from '../cache-ttl.ts';
import type { CachedImage } from '../types.ts';
import { type EntryMeta, entryFrom, metaOf, parseMeta } from './entry-format.ts';
import { RedisTransactionError } from './errors.ts';
import type { RedisKeys } from './redis-keys.ts';

/**
 * How long an entry is kept in Redis: until it expires (at most MAX_CACHE_SECONDS away), plus
 * `staleTtlMs` to be served stale. Always whole milliseconds: PEXPIRE refuses anything else.
 */
function entryTtlMs(entry: CachedImage, staleTtlMs: number, now = Date.now()): number {
  const fresh = Math.min(Math.max(entry.expireAt - now, 0), MAX_CACHE_SECONDS * 1000);
  return Math.ceil((Number.isNaN(fresh) ? 0 : fresh) + Math.max(staleTtlMs, 1_000));
}

/**
 * Runs a transaction and returns its replies, or throws RedisTransactionError when EXEC was
 * discarded or any command in it failed. ioredis resolves EXEC with one [error, reply] pair per
 * command, and Redis applies the commands around a failed one: a failure left unread here is a
 * write that half-happened in silence.
 */
export async function execAll(multi: ChainableCommander, what: string): Promise<unknown[]> {
  const results = await multi.exec();
  if (results === null) throw new RedisTransactionError(`${what}: the transaction was discarded`);
  const index = results.findIndex(([error]) => error !== null);
  const failed = results[index];
  if (failed !== undefined) {
    throw new RedisTransactionError(
      `${what}: command ${index + 1} of ${results.length} failed: ${failed[0]?.message}`,
      { cause: failed[0] },
    );
  }
  return results.map(([, reply]) => reply);
}

/** Reads only an entry's metadata (cheap: no image bytes). */
export async function readMeta(
  client: Redis,
  keys: RedisKeys,
  key: string,
): Promise<EntryMeta | undefined> {
  const text = await client.hget(keys.entry(key), 'm');
  return text === null ? undefined : parseMeta(text);
}

/** Reads an entry and its href; a damaged one is deleted and reads as a miss. */
export async function readEntry(
  client: Redis,
  keys: RedisKeys,
  key: string,
): Promise<{ entry: CachedImage; href: string } | undefined> {
  const [metaBytes, body] = await client.hmgetBuffer(keys.entry(key), 'm', 'b');
  if (metaBytes == null && body == null) return undefined;
  const meta = metaBytes == null ? undefined : parseMeta(metaBytes.toString('utf8'));
  const entry = meta === undefined || body == null ? undefined : entryFrom(meta, body);
  if (meta === undefined || entry === undefined) {
    await client.del(keys.entry(key));
    return undefined;
  }
  return { entry, href: meta.href };
}

/** Writes an entry with its TTL and files it under its href for purges, in one transaction. */
export async function writeEntry(
  client: Redis,
  keys: RedisKeys,
  key: string,
  entry: CachedImage,
  href: string,
  staleTtlMs: number,
): Promise<void> {
  const ttl = entryTtlMs(entry, staleTtlMs);
  const entryKey = keys.entry(key);
  const hrefKey = keys.href(href);
  const multi = client
    .multi()
    .hset(entryKey, 'm', JSON.stringify(metaOf(entry, href)), 'b', entry.buffer)
    .pexpire(entryKey, ttl);
  // An untagged entry (href '') is not filed: no purge can name it anyway.
  if (href !== '') {
    // The index must outlive every entry it lists: set a TTL if none, else only lengthen it.
    multi.sadd(hrefKey, key).pexpire(hrefKey, ttl, 'NX').pexpire(hrefKey, ttl, 'GT');
  }
  try {
    await execAll(multi, `writing entry ${key}`);
  } catch (error: unknown) {
    // Redis answered, and applied the commands around the failed one: take the entry back out,
    // so a failed write never leaves an entry without its TTL or one no purge can find. (When
    // EXEC itself failed — timeout, lost connection — a DEL would only wait just as long.)
    if (error instanceof RedisTransactionError) await client.del(entryKey).catch(() => undefined);
    throw error;
  }
}

/** Deletes every entry filed under `href` and the index; returns how many entries existed. */
export async function deleteHref(client: Redis, keys: RedisKeys, href: string): Promise<number> {
  const hrefKey = keys.href(href);
  const members = await client.smembers(hrefKey);
  if (members.length === 0) return 0;
  const multi = client.multi();
  for (const key of members) multi.del(keys.entry(key));
  multi.del(hrefKey);
  const replies = await execAll(multi, `purging ${href}`);
  return replies.slice(0, members.length).filter((count) => count === 1).length;
}
