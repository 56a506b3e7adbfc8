import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** A response read whole; the harness only talks to loopback, so bodies are small. */
export interface SimpleResponse {
  readonly status: number;
  readonly body: string;
}

/** Options for one loopback request. */
export interface SimpleRequest {
  readonly method?: string;
  readonly caPem?: string;
  readonly token?: string;
  readonly body?: string;
  /** Default application/json when there is a body. */
  readonly contentType?: string;
  /** An Accept header, e.g. the Table form kubectl get asks for. */
  readonly accept?: string;
  readonly timeoutMs?: number;
}

/** One HTTP(S) request with node:http, so the harness needs no HTTP client dependency. */
export function simpleRequest(url: string, opts: SimpleRequest = {}): Promise<SimpleResponse> {
  const target = new URL(url);
  const headers: Record<string, string> = {};
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
  if (opts.accept !== undefined) headers.accept = opts.accept;
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      target,
      {
        method: opts.method ?? 'GET',
        headers,
        timeout: opts.timeoutMs ?? 5_000,
        ...(opts.caPem === undefined ? {} : { ca: opts.caPem }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timed out: ${url}`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/**
 * Polls `check` every `intervalMs` until it returns true; `abort` resolves early with a
 * reason (a process exited), which is turned into the thrown error's message.
 */
export async function pollUntil(
  check: () => Promise<boolean>,
  opts: { timeoutMs: number; intervalMs?: number; abort?: Promise<string> },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  let aborted: string | undefined;
  opts.abort?.then((reason) => {
    aborted = reason;
  });
  for (;;) {
    if (aborted !== undefined) throw new Error(aborted);
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`not ready after ${opts.timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 200));
  }
}
