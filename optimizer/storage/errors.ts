/** Errors of the storage layer, each with a stable code. */

/** The shared storage could not be reached for an operation that must not half-succeed (purge). */
export class StorageUnavailableError extends Error {
  readonly code = 'STORAGE_UNAVAILABLE';
  readonly statusCode = 503;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** A storage option is invalid (checked once, when the store is created). */
export class StorageConfigError extends Error {
  readonly code = 'STORAGE_CONFIG_INVALID';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * A Redis transaction did not fully apply: EXEC was discarded, or one of its commands failed.
 * Redis does not roll back the others, so the caller must treat the whole step as failed.
 */
export class RedisTransactionError extends Error {
  readonly code = 'STORAGE_TRANSACTION_FAILED';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}
