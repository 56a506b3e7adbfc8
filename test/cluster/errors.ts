/** Stable codes for every way the cluster tier can fail; callers match on `code`. */
export type ClusterErrorCode =
  | 'CLUSTER_NOT_ROOT'
  | 'CLUSTER_TOOL_MISSING'
  | 'CLUSTER_KERNEL'
  | 'CLUSTER_COMMAND_FAILED'
  | 'CLUSTER_NOT_READY'
  | 'CLUSTER_IMAGES'
  | 'CLUSTER_NOT_PROVIDED';

/** An error of the cluster tier, with a code and a message that says what to do. */
export class ClusterError extends Error {
  readonly code: ClusterErrorCode;

  constructor(code: ClusterErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ClusterError';
    this.code = code;
  }
}
