import { open, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { decodeEntryHeader, ENTRY_HEADER_READ_BYTES } from './entry-format.ts';

/** What the start-up scan learns of one complete entry file. */
export interface ScannedEntry {
  name: string;
  href: string;
  bytes: number;
  /** Last use as recorded on disk (the store bumps mtime on hits). */
  mtimeMs: number;
}

/** Files examined at once during the scan. */
const SCAN_CONCURRENCY = 32;
/** Directories under the root that hold no entries. */
const NOT_SHARDS = new Set(['tmp', 'locks']);

/**
 * Lists the complete entries under `root` (`<root>/<shard>/<name>`), least recently used
 * first, reading only headers; files that are not complete entries of this format are removed.
 */
export async function scanEntries(
  root: string,
  logger: Logger,
  onError: (error: unknown) => void,
): Promise<ScannedEntry[]> {
  const paths: Array<{ name: string; path: string }> = [];
  for (const shard of await readdir(root)) {
    if (NOT_SHARDS.has(shard)) continue;
    const names = await readdir(join(root, shard)).catch(() => []);
    for (const name of names) paths.push({ name, path: join(root, shard, name) });
  }
  const found: ScannedEntry[] = [];
  for (let i = 0; i < paths.length; i += SCAN_CONCURRENCY) {
    const batch = paths.slice(i, i + SCAN_CONCURRENCY);
    const results = await Promise.all(batch.map((p) => inspect(p.name, p.path, logger, onError)));
    for (const entry of results) if (entry !== undefined) found.push(entry);
  }
  return found.sort((a, b) => a.mtimeMs - b.mtimeMs);
}

/** Reads one file's header; removes the file when it is not a complete entry of this version. */
async function inspect(
  name: string,
  path: string,
  logger: Logger,
  onError: (error: unknown) => void,
): Promise<ScannedEntry | undefined> {
  try {
    const info = await stat(path);
    const handle = await open(path, 'r');
    let head: Buffer;
    try {
      const length = Math.min(info.size, ENTRY_HEADER_READ_BYTES);
      const { buffer, bytesRead } = await handle.read(Buffer.alloc(length), 0, length, 0);
      head = buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
    let header = decodeEntryHeader(head);
    // Very long hrefs push the header past the first read: read the whole file then.
    if (header === undefined && info.size > head.byteLength)
      header = decodeEntryHeader(await readFile(path));
    if (header !== undefined && header.bodyOffset + header.meta.bytes === info.size) {
      return { name, href: header.meta.href, bytes: info.size, mtimeMs: info.mtimeMs };
    }
    logger.warn({ file: path }, 'removing a damaged filesystem cache entry');
    await unlink(path);
  } catch (error: unknown) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') onError(error);
  }
  return undefined;
}
