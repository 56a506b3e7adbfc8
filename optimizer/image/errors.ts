/**
 * Errors of the image layer. None reaches a client: on a transform failure the pipeline
 * serves the original bytes (spec statement 28), so these carry a stable code for the
 * caller to match on and the sharp error as `cause` for the logs.
 */

/** sharp failed or gave up: pixel limit, timeout, blocked loader, corrupt data, unknown type. */
export class TransformError extends Error {
  readonly code = 'TRANSFORM_FAILED';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TransformError';
  }
}
