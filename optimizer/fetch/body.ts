import {
  pipeline as pipelineCallback,
  type Readable,
  Transform,
  type TransformCallback,
  Writable,
} from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';

/**
 * Reading an upstream body the way Next's fetch does (content-coding decoding, spec
 * statement 30) while enforcing `maximumResponseBody` on the decoded bytes as they stream in:
 * the first byte over the limit destroys the pipeline, which aborts the download, so neither a
 * huge body nor a compression bomb is ever buffered past the limit.
 */

/** More codings than this are refused, as undici's fetch does. */
export const MAX_CONTENT_CODINGS = 5;

/** Lenient flushing, as undici's fetch: a truncated stream yields what it decoded so far. */
const ZLIB_OPTIONS: zlib.ZlibOptions = {
  flush: zlib.constants.Z_SYNC_FLUSH,
  finishFlush: zlib.constants.Z_SYNC_FLUSH,
};
const BROTLI_OPTIONS: zlib.BrotliOptions = {
  flush: zlib.constants.BROTLI_OPERATION_FLUSH,
  finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH,
};

/** What readBody throws for each refusal; the caller picks Next's status and text. */
export interface BodyErrors {
  tooLarge: () => Error;
  tooManyCodings: () => Error;
}

/** `deflate` is zlib-wrapped per RFC 9110, but servers send raw deflate too: sniff it. */
class InflateAuto extends Transform {
  #inner: zlib.Inflate | zlib.InflateRaw | undefined;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const inner = this.#inner ?? this.#start(chunk);
    inner.write(chunk, () => callback());
  }

  override _flush(callback: TransformCallback): void {
    const inner = this.#inner;
    if (inner === undefined) {
      callback();
      return;
    }
    inner.once('end', () => callback());
    inner.end();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#inner?.destroy();
    callback(error);
  }

  #start(chunk: Buffer): zlib.Inflate | zlib.InflateRaw {
    // A zlib header's low nibble is 8 (CM = deflate); raw deflate has no header.
    const wrapped = ((chunk[0] ?? 0) & 0x0f) === 0x08;
    const inner = wrapped ? zlib.createInflate(ZLIB_OPTIONS) : zlib.createInflateRaw(ZLIB_OPTIONS);
    inner.on('data', (data: Buffer) => this.push(data));
    inner.on('error', (error: Error) => this.destroy(error));
    this.#inner = inner;
    return inner;
  }
}

/** Collects chunks, failing the pipeline on the first byte over `limit`. */
class LimitedCollector extends Writable {
  readonly chunks: Buffer[] = [];
  #size = 0;
  readonly #limit: number;
  readonly #tooLarge: () => Error;

  constructor(limit: number, tooLarge: () => Error) {
    super();
    this.#limit = limit;
    this.#tooLarge = tooLarge;
  }

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error) => void,
  ): void {
    this.#size += chunk.length;
    if (this.#size > this.#limit) {
      callback(this.#tooLarge());
      return;
    }
    this.chunks.push(chunk);
    callback();
  }
}

/**
 * The codings of a Content-Encoding header, listed in the order to undo them, or null when
 * the body must be used undecoded (no header, or a coding we do not know — as fetch does).
 * Throws `tooManyCodings()` past MAX_CONTENT_CODINGS.
 */
export function decodingSteps(header: string | undefined, errors: BodyErrors): string[] | null {
  if (header === undefined || header.trim() === '') return null;
  const codings = header
    .toLowerCase()
    .split(',')
    .map((coding) => coding.trim());
  if (codings.length > MAX_CONTENT_CODINGS) throw errors.tooManyCodings();
  const known = new Set(['gzip', 'x-gzip', 'deflate', 'br', 'zstd']);
  if (!codings.every((coding) => known.has(coding))) return null;
  return codings.reverse();
}

/** decodingSteps, destroying the unread body when the header is refused. */
function decodingStepsOrAbandon(
  body: Readable,
  contentEncoding: string | undefined,
  errors: BodyErrors,
): string[] | null {
  try {
    return decodingSteps(contentEncoding, errors);
  } catch (error: unknown) {
    abandon(body);
    throw error;
  }
}

function decoderFor(coding: string): Transform {
  switch (coding) {
    case 'gzip':
    case 'x-gzip':
      return zlib.createGunzip(ZLIB_OPTIONS);
    case 'deflate':
      return new InflateAuto();
    case 'br':
      return zlib.createBrotliDecompress(BROTLI_OPTIONS);
    default:
      return zlib.createZstdDecompress();
  }
}

/**
 * Reads `body` to a Buffer, undoing `contentEncoding`, failing with `errors.tooLarge()` as soon
 * as the decoded size passes `limit` (the body is destroyed, closing the upstream socket).
 */
export async function readBody(
  body: Readable,
  contentEncoding: string | undefined,
  limit: number,
  errors: BodyErrors,
  signal?: AbortSignal,
): Promise<Buffer> {
  const steps = decodingStepsOrAbandon(body, contentEncoding, errors);
  const collector = new LimitedCollector(limit, errors.tooLarge);
  const stages = [body, ...(steps ?? []).map(decoderFor), collector];
  await pipeline(stages, signal === undefined ? {} : { signal });
  return Buffer.concat(collector.chunks);
}

/** Destroys an unread body; undici then emits an AbortError nobody else would listen to. */
export function abandon(body: Readable): void {
  body.on('error', () => {});
  body.destroy();
}

/** The declared length of an undecoded body, when it already proves the body too large. */
export function declaredTooLarge(
  contentLength: string | undefined,
  contentEncoding: string | undefined,
  limit: number,
): boolean {
  if (contentLength === undefined || (contentEncoding ?? '').trim() !== '') return false;
  const length = Number(contentLength);
  return Number.isFinite(length) && length > limit;
}

/** A body whose first bytes are read and the rest left unread until asked for. */
export interface OpenedBody {
  /** The decoded first bytes: all of the body when `complete`. */
  head: Buffer;
  complete: boolean;
  /** The whole decoded body (head + rest), failing with `tooLarge()` past the limit. */
  readAll: (signal: AbortSignal) => Promise<Buffer>;
  /**
   * The same as the chunks it arrived in, the head first: no copy into one buffer, which for a
   * multi-megabyte source is a fresh allocation and a page fault per 4 KiB (the bench's main
   * process spent more on that than on fetching).
   */
  readChunks: (signal: AbortSignal) => Promise<Buffer[]>;
  /** Drops the unread rest: the upstream connection is closed, nothing more is downloaded. */
  discard: () => void;
}

/** How much of a body openBody reads before it stops, and when it may stop sooner. */
export interface HeadRule {
  /** True once `head` says what the caller needs (an image header); unset: read to maxBytes. */
  isEnough?: (head: Buffer) => boolean;
  maxBytes: number;
}

interface Head {
  chunks: Buffer[];
  size: number;
  ended: boolean;
}

/** Reads `stream` until `rule` is satisfied or it ends, then pauses it. */
function readHead(
  stream: Readable,
  rule: HeadRule,
  limit: number,
  errors: BodyErrors,
): Promise<Head> {
  return new Promise<Head>((resolve, reject) => {
    const head: Head = { chunks: [], size: 0, ended: false };
    const cleanup = (): void => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
    };
    const onData = (chunk: Buffer): void => {
      head.chunks.push(chunk);
      head.size += chunk.length;
      if (head.size > limit) {
        cleanup();
        reject(errors.tooLarge());
      } else if (
        head.size >= rule.maxBytes ||
        rule.isEnough?.(Buffer.concat(head.chunks, head.size)) === true
      ) {
        cleanup();
        stream.pause();
        resolve(head);
      }
    };
    const onEnd = (): void => {
      cleanup();
      resolve({ ...head, ended: true });
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
  });
}

/**
 * Reads the first bytes of `body` (decoded, within `limit`) and leaves the rest unread, its
 * socket paused by backpressure, until readAll() or discard(). A failure while nobody reads
 * (the upstream resets) is kept and thrown by readAll().
 */
export async function openBody(
  body: Readable,
  contentEncoding: string | undefined,
  limit: number,
  errors: BodyErrors,
  rule: HeadRule,
): Promise<OpenedBody> {
  const steps = decodingStepsOrAbandon(body, contentEncoding, errors);
  const decoders = (steps ?? []).map(decoderFor);
  const decoded: Readable =
    decoders.length === 0
      ? body
      : (pipelineCallback([body, ...decoders], () => {}) as unknown as Readable);
  let failure: unknown;
  decoded.on('error', (error: unknown) => {
    failure ??= error;
  });
  const discard = (): void => {
    abandon(body);
    for (const decoder of decoders) decoder.destroy();
  };
  let head: Head;
  try {
    head = await readHead(decoded, rule, limit, errors);
  } catch (error: unknown) {
    discard();
    throw error;
  }
  const headBuffer = Buffer.concat(head.chunks);
  const readChunks = async (signal: AbortSignal): Promise<Buffer[]> => {
    // A paused stream still emits 'end' once its buffer is empty: then the head was it all.
    if (head.ended || decoded.readableEnded) return [headBuffer];
    if (failure !== undefined) {
      discard();
      throw failure;
    }
    const collector = new LimitedCollector(limit - head.size, errors.tooLarge);
    try {
      await pipeline([decoded, collector], { signal });
    } catch (error: unknown) {
      discard();
      throw error;
    }
    return [headBuffer, ...collector.chunks];
  };
  const readAll = async (signal: AbortSignal): Promise<Buffer> => {
    const chunks = await readChunks(signal);
    return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
  };
  return { head: headBuffer, complete: head.ended, readAll, readChunks, discard };
}
