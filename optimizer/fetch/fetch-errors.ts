import { ImageError } from '../errors.ts';

/**
 * Errors of the fetch layer. ImageErrors carry Next's exact status and text; the plain errors
 * here become Next's `500 Internal Server Error`, exactly as Next answers a DNS or socket
 * failure. `retryable: true` marks what a new attempt may fix (read by isRetryable).
 */

/** Socket-level failures where a new connection may succeed. */
const RETRYABLE_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);

/** Failures before any byte was sent, so another address of the same host may be tried. */
const CONNECT_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** The `code` of an error-like value, or undefined. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** True for connection errors and resets that a retry may fix. */
export function isConnectionError(error: unknown): boolean {
  const code = errorCode(error);
  return code !== undefined && RETRYABLE_CODES.has(code);
}

/** True when the connection could not be opened at all (safe to try the next address). */
export function isConnectFailure(error: unknown): boolean {
  const code = errorCode(error);
  return code !== undefined && CONNECT_CODES.has(code);
}

/** Marks `error` as one a new attempt may fix, and returns it. */
export function markRetryable<E extends Error>(error: E): E & { retryable: true } {
  return Object.assign(error, { retryable: true as const });
}

/** An ImageError for an upstream HTTP status, retryable when the status is 5xx or 429. */
export function statusError(status: number, message: string, code: string): ImageError {
  const error = new ImageError(status < 400 ? 500 : status, message, code);
  return status >= 500 || status === 429 ? markRetryable(error) : error;
}

/** The hostname did not resolve. Not an ImageError: Next answers 500 Internal Server Error. */
export class DnsLookupError extends Error {
  readonly code = 'DNS_LOOKUP_FAILED';
  readonly hostname: string;
  readonly retryable: boolean;
  constructor(hostname: string, options?: ErrorOptions) {
    super(`could not resolve "${hostname}"`, options);
    this.hostname = hostname;
    // EAI_AGAIN is the resolver saying "try again"; NXDOMAIN will not change on a retry.
    this.retryable = errorCode(options?.cause) === 'EAI_AGAIN';
  }
}

/** A socket-level failure talking to the upstream (refused, reset, unreachable…). */
export class UpstreamConnectionError extends Error {
  readonly code = 'UPSTREAM_CONNECTION_FAILED';
  readonly retryable = true;
  /** The system or undici code of the cause, e.g. ECONNREFUSED. */
  readonly causeCode: string | undefined;
  constructor(target: string, cause: unknown) {
    super(
      `connection to ${target} failed: ${cause instanceof Error ? cause.message : String(cause)}`,
      {
        cause,
      },
    );
    this.causeCode = errorCode(cause);
  }
}

/** A redirect named a scheme fetch cannot follow (Next's fetch fails → 500). */
export class UnsupportedProtocolError extends Error {
  readonly code = 'UPSTREAM_UNSUPPORTED_PROTOCOL';
  constructor(url: URL) {
    super(`cannot fetch ${url.protocol} URL`);
  }
}

/** The pinned connector was asked to connect to a name instead of a checked address. */
export class UnpinnedConnectError extends Error {
  readonly code = 'UPSTREAM_UNPINNED_CONNECT';
  constructor(hostname: string) {
    super(`refusing to connect to unpinned host "${hostname}"`);
  }
}
