import type { Dispatcher } from 'undici';
import { isTimeoutReason } from '../../lib/abortable.ts';
import { ImageError, MESSAGES } from '../errors.ts';
import type { UpstreamImage } from '../types.ts';
import { abandon, declaredTooLarge, readBody } from './body.ts';
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

/** Reads a final response into an UpstreamImage, or throws Next's ImageError for it. */
export async function readUpstreamImage(
  response: Dispatcher.ResponseData,
  rules: ResponseRules,
): Promise<UpstreamImage> {
  const { statusCode: status, headers, body } = response;
  const code = (what: string): string => `${rules.codePrefix}_${what}`;
  if (status < 200 || status > 299) {
    discardBody(body);
    throw statusError(status, rules.message, code('STATUS'));
  }
  const tooLarge = (): ImageError => new ImageError(413, rules.message, code('TOO_LARGE'));
  const encoding = headerValue(headers, 'content-encoding') ?? undefined;
  const length = headerValue(headers, 'content-length') ?? undefined;
  if (declaredTooLarge(length, encoding, rules.maximumResponseBody)) {
    abandon(body);
    throw tooLarge();
  }
  const buffer = await readBody(
    body,
    encoding,
    rules.maximumResponseBody,
    {
      tooLarge,
      tooManyCodings: () => new ImageError(400, rules.message, code('ENCODING')),
    },
    rules.signal,
  );
  if (buffer.length === 0) throw new ImageError(400, rules.message, code('EMPTY'));
  return {
    buffer,
    contentType: headerValue(headers, 'content-type'),
    cacheControl: headerValue(headers, 'cache-control'),
    etag: headerValue(headers, 'etag'),
  };
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
