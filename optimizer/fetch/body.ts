import { type Readable, Transform, type TransformCallback, Writable } from 'node:stream';
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
  let steps: string[] | null;
  try {
    steps = decodingSteps(contentEncoding, errors);
  } catch (error: unknown) {
    abandon(body);
    throw error;
  }
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
