/**
 * Errors of the optimizer. An ImageError is what Next.js calls ImageError: a status and an
 * exact plain-text message that the client sees. Anything else becomes 500.
 */
export class ImageError extends Error {
  readonly statusCode: number;
  readonly code: string;
  constructor(statusCode: number, message: string, code = 'IMAGE_ERROR', options?: ErrorOptions) {
    super(message, options);
    this.statusCode = statusCode;
    this.code = code;
  }
}

/** Next.js's exact error texts, in one place. */
export const MESSAGES = {
  internalInvalid: '"url" parameter is valid but internal response is invalid',
  upstreamInvalid: '"url" parameter is valid but upstream response is invalid',
  upstreamTimeout: '"url" parameter is valid but upstream response timed out',
  notAllowed: '"url" parameter is not allowed',
  notValidImage: "The requested resource isn't a valid image.",
  typeNotAllowed: '"url" parameter is valid but image type is not allowed',
} as const;

/** The work queue is full: shed load instead of growing memory. */
export class QueueFullError extends ImageError {
  readonly retryAfterSeconds: number;
  /** What ran out: transform slots and their queue, or the memory budget and its queue. */
  readonly reason: 'queue' | 'memory';
  constructor(retryAfterSeconds: number, reason: 'queue' | 'memory' = 'queue') {
    super(503, 'The image optimizer is busy; retry shortly', 'QUEUE_FULL');
    this.retryAfterSeconds = retryAfterSeconds;
    this.reason = reason;
  }
}

/** The job's time budget (`timeout`) ran out. */
export class JobTimeoutError extends ImageError {
  constructor(options?: ErrorOptions) {
    super(504, MESSAGES.upstreamTimeout, 'JOB_TIMEOUT', options);
  }
}

/** A fetch failed in a way a retry may fix (connection error, 5xx, 429, attempt timeout). */
export function isRetryable(error: unknown): boolean {
  return error instanceof Error && (error as { retryable?: boolean }).retryable === true;
}
