// Errors of the operator, each with a stable code callers match on.

/** A non-2xx answer of the API server. `reason` is metav1.Status's (NotFound, Conflict, Forbidden, …). */
export class KubeApiError extends Error {
  readonly code = 'KUBE_API_ERROR';
  readonly status: number;
  readonly reason: string;

  constructor(message: string, status: number, reason: string) {
    super(message);
    this.status = status;
    this.reason = reason;
  }

  /** Builds the error from a response; only metav1.Status's reason and message are kept, never the body. */
  static fromResponse(method: string, path: string, status: number, body: string): KubeApiError {
    let reason = 'Unknown';
    let detail = '';
    try {
      const parsed = JSON.parse(body) as { reason?: string; message?: string };
      reason = parsed.reason ?? reason;
      detail = parsed.message ?? '';
    } catch {
      // Not a metav1.Status (e.g. an HTML error page from a proxy): report the status code only.
    }
    return new KubeApiError(
      `${method} ${path.split('?')[0]}: ${status} ${reason}${detail ? `: ${detail}` : ''}`,
      status,
      reason,
    );
  }
}
