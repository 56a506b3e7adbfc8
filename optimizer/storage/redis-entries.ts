import type { Redis } from 'ioredis';
import type { CachedImage } from '../types.ts';
import { type EntryMeta, entryFrom, metaOf, parseMeta } from './entry-format.ts';
import type { RedisKeys } from './redis-keys.ts';

/** How long an entry is kept in Redis: until it expires, plus `staleTtlMs` to be served stale. */
function entryTtlMs(entry: CachedImage, staleTtlMs: number, now = Date.now()): number {
  return Math.max(entry.expireAt - now, 0) + Math.max(staleTtlMs, 1_000);
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
  const results = await multi.exec();
  const failed = results?.find(([error]) => error !== null)?.[0];
  if (failed != null) throw failed;
}

/** Deletes every entry filed under `href` and the index; returns how many entries existed. */
export async function deleteHref(client: Redis, keys: RedisKeys, href: string): Promise<number> {
  const hrefKey = keys.href(href);
  const members = await client.smembers(hrefKey);
  if (members.length === 0) return 0;
  const multi = client.multi();
  for (const key of members) multi.del(keys.entry(key));
  multi.del(hrefKey);
  const results = (await multi.exec()) ?? [];
  let removed = 0;
  for (const [error, count] of results.slice(0, members.length)) {
    if (error === null && count === 1) removed++;
  }
  return removed;
}
