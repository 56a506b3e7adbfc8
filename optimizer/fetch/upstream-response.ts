import type { Dispatcher } from 'undici';
import { isTimeoutReason } from '../../lib/abortable.ts';
import { ImageError, MESSAGES } from '../errors.ts';
import type { UpstreamImage } from '../types.ts';
import { abandon, declaredTooLarge, type HeadRule, openBody } from './body.ts';
import { markRetryable, statusError } from './fetch-errors.ts';

/**
 * Turning a final (non-redirect) upstream response into an UpstreamImage with Next's outcomes
 * (spec statements 29 and 33): non-2xx → that status (<400 → 500), empty → 400, over
 * `maximumResponseBody` → 413, each with the caller's message. Shared by both fetchers.
 */

/** The message and limits that distinguish the internal fetch from the external one. */
export interface ResponseRules {
  /** MESSAGES.upstreamInvalid or MESSAGES.internalInvalid. */
  message: string;
  /** Prefix of the error codes: UPSTREAM_STATUS, INTERNAL_EMPTY… */
  codePrefix: 'UPSTREAM' | 'INTERNAL';
  maximumResponseBody: number;
  signal: AbortSignal;
}

/** One header as fetch's Headers.get would give it: repeated values joined, or null. */
export function headerValue(
  headers: Dispatcher.ResponseData['headers'],
  name: string,
): string | null {
  const value = headers[name];
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Lets a keep-alive socket be reused when the rest of an unwanted body is small. */
export function discardBody(body: Dispatcher.ResponseData['body']): void {
  body.dump({ limit: 64 * 1024 }).catch(() => {});
}

/**
 * A source whose response headers and first bytes are read and whose body is not: what the
 * optimizer admits against its memory budget before it downloads anything more.
 */
export interface UpstreamSource extends Omit<UpstreamImage, 'buffer'> {
  /** The decoded first bytes; all of the body when `complete`. */
  head: Buffer;
  complete: boolean;
  /** Content-Length when the body is sent without a content coding. */
  declaredLength: number | undefined;
  /**
   * The whole body within maximumResponseBody (413 past it, 400 when empty). `signal` bounds
   * the download; on a failure the connection is closed. `mapError` is the fetcher's own.
   */
  readAll: (signal: AbortSignal) => Promise<Buffer>;
  /** The same body in the chunks it arrived in (readAll without joining them). */
  readChunks: (signal: AbortSignal) => Promise<Buffer[]>;
  /** Closes the connection without reading the rest. */
  discard: () => void;
}

function declaredLength(length: string | undefined, encoding: string | undefined) {
  if (length === undefined || (encoding ?? '').trim() !== '') return undefined;
  const value = Number(length);
  return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

/**
 * Checks a final response and reads the first bytes of its body (until `head` is satisfied),
 * or throws Next's ImageError for it. `mapError` turns a failure of the later download into
 * what the fetcher answers for it (a reset → the fetcher's connection error).
 */
export async function openUpstreamSource(
  response: Dispatcher.ResponseData,
  rules: ResponseRules,
  head: HeadRule,
  mapError: (error: unknown, signal: AbortSignal) => unknown,
): Promise<UpstreamSource> {
  const { statusCode: status, headers, body } = response;
  const code = (what: string): string => `${rules.codePrefix}_${what}`;
  if (status < 200 || status > 299) {
    discardBody(body);
    throw statusError(status, rules.message, code('STATUS'));
  }
  const tooLarge = (): ImageError => new ImageError(413, rules.message, code('TOO_LARGE'));
  const empty = (): ImageError => new ImageError(400, rules.message, code('EMPTY'));
  const encoding = headerValue(headers, 'content-encoding') ?? undefined;
  const length = headerValue(headers, 'content-length') ?? undefined;
  if (declaredTooLarge(length, encoding, rules.maximumResponseBody)) {
    abandon(body);
    throw tooLarge();
  }
  const opened = await openBody(
    body,
    encoding,
    rules.maximumResponseBody,
    {
      tooLarge,
      tooManyCodings: () => new ImageError(400, rules.message, code('ENCODING')),
    },
    head,
  );
  if (opened.complete && opened.head.length === 0) throw empty();
  return {
    contentType: headerValue(headers, 'content-type'),
    cacheControl: headerValue(headers, 'cache-control'),
    etag: headerValue(headers, 'etag'),
    head: opened.head,
    complete: opened.complete,
    declaredLength: declaredLength(length, encoding),
    readAll: async (signal) => {
      try {
        const buffer = await opened.readAll(signal);
        if (buffer.length === 0) throw empty();
        return buffer;
      } catch (error: unknown) {
        throw error instanceof ImageError ? error : mapError(error, signal);
      }
    },
    readChunks: async (signal) => {
      try {
        const chunks = await opened.readChunks(signal);
        if (chunks.every((c) => c.length === 0)) throw empty();
        return chunks;
      } catch (error: unknown) {
        throw error instanceof ImageError ? error : mapError(error, signal);
      }
    },
    discard: opened.discard,
  };
}

/** Reads all of a source opened by openUpstreamSource into an UpstreamImage. */
export async function readUpstreamSource(
  source: UpstreamSource,
  signal: AbortSignal,
): Promise<UpstreamImage> {
  const chunks = await source.readChunks(signal);
  const length = chunks.reduce((sum, c) => sum + c.length, 0);
  let joined: Buffer | undefined = chunks.length === 1 ? chunks[0] : undefined;
  return {
    // Joined only if something needs the whole body as one buffer (a bypass type, an animation
    // check the header cannot settle, a fallback to the original): a transform never does.
    get buffer(): Buffer {
      joined ??= Buffer.concat(chunks, length);
      return joined;
    },
    chunks,
    head: source.head,
    length,
    contentType: source.contentType,
    cacheControl: source.cacheControl,
    etag: source.etag,
  };
}

/** Reads a final response into an UpstreamImage, or throws Next's ImageError for it. */
export async function readUpstreamImage(
  response: Dispatcher.ResponseData,
  rules: ResponseRules,
): Promise<UpstreamImage> {
  const whole: HeadRule = { maxBytes: Number.POSITIVE_INFINITY };
  const source = await openUpstreamSource(response, rules, whole, (error) => error);
  return await readUpstreamSource(source, rules.signal);
}

/**
 * What an aborted fetch throws: an attempt timeout (a TimeoutError reason) becomes Next's 504
 * `upstream response timed out`, retryable; any other reason (the job's budget, shutdown) is
 * rethrown as is so the caller sees its own reason. Undefined when `signal` has not aborted.
 */
export function abortOutcome(signal: AbortSignal): unknown {
  if (!signal.aborted) return undefined;
  const reason: unknown = signal.reason;
  if (!isTimeoutReason(reason)) return reason;
  return markRetryable(
    new ImageError(504, MESSAGES.upstreamTimeout, 'UPSTREAM_TIMEOUT', { cause: reason }),
  );
}
