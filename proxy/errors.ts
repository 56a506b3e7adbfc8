/** Two applications claim the same method and path (fastify's FST_ERR_DUPLICATED_ROUTE). */
export class RouteConflictError extends Error {
  readonly code = 'GATEWAY_ROUTE_CONFLICT';
  constructor(method: string, path: string, first: string, second: string) {
    super(
      `applications "${first}" and "${second}" both claim ${method} ${path}: ` +
        'narrow one of them with proxy.routes, proxy.methods or proxy.prefix',
    );
  }
}

/** What the client gets when the gateway cannot get an answer from an upstream. */
export interface UpstreamFailure {
  statusCode: 502 | 504;
  code: string;
  error: string;
  message: string;
}

// undici / Node error codes meaning "nobody answered at that address".
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);
const TIMED_OUT = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'FST_REPLY_FROM_GATEWAY_TIMEOUT',
  'FST_REPLY_FROM_TIMEOUT',
  'ETIMEDOUT',
]);

function codesOf(error: unknown): string[] {
  const codes: string[] = [];
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; depth++) {
    const code = (e as Error & { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    if (e instanceof AggregateError) for (const inner of e.errors) codes.push(...codesOf(inner));
    e = e.cause;
  }
  return codes;
}

/** Classifies a proxying error: timeouts → 504, everything else → 502, with a clear body. */
export function upstreamFailure(
  error: unknown,
  application: string,
  origin: string,
): UpstreamFailure {
  const codes = codesOf(error);
  const cause =
    codes.find((c) => TIMED_OUT.has(c) || UNREACHABLE.has(c)) ?? codes.at(-1) ?? 'unknown';
  if (codes.some((c) => TIMED_OUT.has(c))) {
    return {
      statusCode: 504,
      code: 'GATEWAY_UPSTREAM_TIMEOUT',
      error: 'Gateway Timeout',
      message: `application "${application}" at ${origin} did not answer in time (${cause})`,
    };
  }
  if (codes.includes('ECONNREFUSED')) {
    return {
      statusCode: 502,
      code: 'GATEWAY_UPSTREAM_REFUSED',
      error: 'Bad Gateway',
      message: `application "${application}" at ${origin} refused the connection (is it running?)`,
    };
  }
  return {
    statusCode: 502,
    code: 'GATEWAY_UPSTREAM_FAILED',
    error: 'Bad Gateway',
    message: `application "${application}" at ${origin} could not be reached (${cause})`,
  };
}

/** A listen error as a sentence that says what to change, or undefined for other errors. */
export function addressInUse(error: unknown): string | undefined {
  const e = error as { code?: unknown; address?: unknown; port?: unknown };
  if (e?.code !== 'EADDRINUSE') return undefined;
  return `${String(e.address)}:${String(e.port)} is already in use: stop what listens there or choose another port`;
}

/** A cluster worker exited before it listened; its own error is in its output. */
export class WorkerStartError extends Error {
  readonly code = 'GATEWAY_WORKER_START';
  constructor() {
    super('a gateway worker exited while starting (its error is above)');
  }
}

// Failures of the connection itself, before the upstream sent anything: sending the request
// again cannot do it twice. Timeouts are not among them (the upstream may be working on it).
const RETRYABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

/**
 * How many times a GET or HEAD goes again after such a failure. Measured on the cluster
 * tier: after an optimizer pod is SIGKILLed, the Service keeps routing new connections to
 * it (refused) for a second or two, one in three with three replicas; with two retries one
 * request in ~10,000 still failed, refused three times.
 */
export const MAX_RETRIES = 3;

/** The first error code of `error` or its causes, if any. */
export function errorCode(error: unknown): string | undefined {
  return codesOf(error)[0];
}

/**
 * reply-from's retry decision (pure): the delay in ms before sending a GET or HEAD again,
 * or null. Only when no response arrived and the connection failed in one of the ways
 * above; never for a response (a 503 "busy" reaches the client as is). reply-from treats 0
 * as "no retry", so the delay is at least 1 ms.
 */
export function retryBeforeResponse(
  method: string,
  error: unknown,
  gotResponse: boolean,
  attempt: number,
): number | null {
  if (gotResponse || error === undefined || error === null) return null;
  if (method !== 'GET' && method !== 'HEAD') return null;
  if (attempt >= MAX_RETRIES) return null;
  // 1, 51, 101 ms: later tries give the endpoints time to drop a dead pod.
  return codesOf(error).some((c) => RETRYABLE.has(c)) ? 1 + attempt * 50 : null;
}
