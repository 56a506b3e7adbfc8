/** Stable codes for every way the test control plane can fail; callers match on `code`. */
export type ControlPlaneErrorCode =
  | 'CP_GO_MISSING'
  | 'CP_BUILD_FAILED'
  | 'CP_BINARY_MISSING'
  | 'CP_PROCESS_EXITED'
  | 'CP_NOT_READY'
  | 'CP_ETCD_REQUEST_FAILED'
  | 'CP_NOT_PROVIDED';

/** An error of the test control plane, with a code and a message that says what to do. */
export class ControlPlaneError extends Error {
  readonly code: ControlPlaneErrorCode;

  constructor(code: ControlPlaneErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ControlPlaneError';
    this.code = code;
  }
}
