import { crc32 } from 'node:zlib';
import { MAX_CACHE_SECONDS } from '../cache-ttl.ts';
import type { CachedImage } from '../types.ts';

/**
 * Version of the stored entry format. It is part of every file name and Redis key, so an
 * upgrade that changes the format reads nothing written by an older version.
 */
export const ENTRY_FORMAT_VERSION = 1;

/** Metadata stored beside the image bytes. */
export interface EntryMeta {
  v: number;
  href: string;
  extension: string;
  etag: string;
  upstreamEtag: string;
  maxAge: number;
  expireAt: number;
  /** Length and CRC-32 of the image bytes: a truncated or damaged entry is detected on read. */
  bytes: number;
  crc: number;
}

const MAGIC = Buffer.from('NIMG');
/** magic, u8 version, u32 meta length. */
const HEADER_BYTES = MAGIC.length + 1 + 4;

/** The metadata of `entry`, tagged with its source url. */
export function metaOf(entry: CachedImage, href: string): EntryMeta {
  return {
    v: ENTRY_FORMAT_VERSION,
    href,
    extension: entry.extension,
    etag: entry.etag,
    upstreamEtag: entry.upstreamEtag,
    maxAge: entry.maxAge,
    expireAt: entry.expireAt,
    bytes: entry.buffer.byteLength,
    crc: crc32(entry.buffer),
  };
}

function isString(value: unknown): value is string {
  return typeof value === 'string';
}

function isNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

// Versions before the cap stored an upstream's max-age as given (up to 1e30) with no expiry
// Redis kept: such an entry would be fresh forever, so it reads as damaged and is dropped.
function isCacheSeconds(value: unknown): value is number {
  return isNumber(value) && value >= 0 && value <= MAX_CACHE_SECONDS;
}

/** Parses stored metadata; undefined when it is not a valid entry of this format version. */
export function parseMeta(text: string): EntryMeta | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const m = raw as Record<string, unknown>;
  const valid =
    m.v === ENTRY_FORMAT_VERSION &&
    isString(m.href) &&
    isString(m.extension) &&
    isString(m.etag) &&
    isString(m.upstreamEtag) &&
    isCacheSeconds(m.maxAge) &&
    isNumber(m.expireAt) &&
    isNumber(m.bytes) &&
    isNumber(m.crc);
  return valid ? (m as unknown as EntryMeta) : undefined;
}

/** Joins metadata and bytes into an entry; undefined when the bytes do not match the metadata. */
export function entryFrom(meta: EntryMeta, body: Buffer): CachedImage | undefined {
  if (body.byteLength !== meta.bytes || body.byteLength === 0 || crc32(body) !== meta.crc) {
    return undefined;
  }
  return {
    buffer: body,
    extension: meta.extension,
    etag: meta.etag,
    upstreamEtag: meta.upstreamEtag,
    maxAge: meta.maxAge,
    expireAt: meta.expireAt,
  };
}

/** One self-describing file: magic, version, metadata length, metadata JSON, image bytes. */
export function encodeEntryFile(entry: CachedImage, href: string): Buffer {
  const meta = Buffer.from(JSON.stringify(metaOf(entry, href)));
  const header = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(header, 0);
  header.writeUInt8(ENTRY_FORMAT_VERSION, MAGIC.length);
  header.writeUInt32BE(meta.byteLength, MAGIC.length + 1);
  return Buffer.concat([header, meta, entry.buffer]);
}

/** The metadata at the start of a file and where the image bytes begin; undefined if unreadable. */
export function decodeEntryHeader(
  head: Buffer,
): { meta: EntryMeta; bodyOffset: number } | undefined {
  if (head.byteLength < HEADER_BYTES || !head.subarray(0, MAGIC.length).equals(MAGIC)) {
    return undefined;
  }
  if (head.readUInt8(MAGIC.length) !== ENTRY_FORMAT_VERSION) return undefined;
  const metaBytes = head.readUInt32BE(MAGIC.length + 1);
  const bodyOffset = HEADER_BYTES + metaBytes;
  if (head.byteLength < bodyOffset) return undefined;
  const meta = parseMeta(head.subarray(HEADER_BYTES, bodyOffset).toString('utf8'));
  return meta === undefined ? undefined : { meta, bodyOffset };
}

/** Decodes a whole entry file; undefined when it is corrupt, truncated or of another version. */
export function decodeEntryFile(file: Buffer): { entry: CachedImage; href: string } | undefined {
  const header = decodeEntryHeader(file);
  if (header === undefined) return undefined;
  const entry = entryFrom(header.meta, file.subarray(header.bodyOffset));
  return entry === undefined ? undefined : { entry, href: header.meta.href };
}

/** Bytes to read from the start of a file to be sure to hold its header (hrefs are short). */
export const ENTRY_HEADER_READ_BYTES = 16 * 1024;
