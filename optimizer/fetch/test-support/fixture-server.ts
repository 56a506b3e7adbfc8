import { once } from 'node:events';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A real upstream for the fetch tests, on loopback only: routes by path, records every request
 * (path and raw headers) and every connection, so tests assert what really reached the server.
 */

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface RecordedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  /** Header names in the order and case they arrived. */
  rawHeaderNames: string[];
  socket: Socket;
}

export interface Fixture {
  /** `http://<host>:<port>` */
  url: string;
  host: string;
  port: number;
  requests: RecordedRequest[];
  /** Every socket the server accepted, open or closed. */
  sockets: Socket[];
  route: (path: string, handler: Handler) => void;
  /** Requests whose path (without query) is `path`. */
  count: (path: string) => number;
  /** Resolves when the first request for `path` arrives. */
  nextRequest: (path: string) => Promise<RecordedRequest>;
  close: () => Promise<void>;
}

/** Starts a fixture server on `host` (127.0.0.1 by default), port 0. */
export async function startFixture(host = '127.0.0.1'): Promise<Fixture> {
  const routes = new Map<string, Handler>();
  const waiters = new Map<string, ((request: RecordedRequest) => void)[]>();
  const requests: RecordedRequest[] = [];
  const sockets: Socket[] = [];
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const rawHeaderNames = req.rawHeaders.filter((_, index) => index % 2 === 0);
    const recorded = { path, headers: req.headers, rawHeaderNames, socket: req.socket };
    requests.push(recorded);
    for (const resolve of waiters.get(path) ?? []) resolve(recorded);
    waiters.delete(path);
    const handler = routes.get(path);
    if (handler === undefined) {
      res.statusCode = 404;
      res.end('no route');
      return;
    }
    handler(req, res);
  });
  server.on('connection', (socket: Socket) => sockets.push(socket));
  server.listen(0, host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    host,
    port,
    requests,
    sockets,
    route: (path, handler) => {
      routes.set(path, handler);
    },
    count: (path) => requests.filter((request) => request.path === path).length,
    nextRequest: (path) =>
      new Promise((resolve) => {
        waiters.set(path, [...(waiters.get(path) ?? []), resolve]);
      }),
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** Resolves when `socket` has closed (immediately if it already has). */
export function socketClosed(socket: Socket): Promise<void> {
  if (socket.closed) return Promise.resolve();
  // Not events.once: it rejects on the ECONNRESET an aborting client causes, before 'close'.
  return new Promise((resolve) => socket.once('close', () => resolve()));
}

/** A lookup that maps names to fixed addresses and fails like DNS for any other name. */
export function mapLookup(
  table: Record<string, string[]>,
  calls: string[] = [],
): (hostname: string) => Promise<{ address: string; family: number }[]> {
  return async (hostname) => {
    calls.push(hostname);
    const addresses = table[hostname];
    if (addresses === undefined) {
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    }
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
}

/** The first 16 bytes of a PNG: what the fixture serves as an image (the fetchers never decode it). */
export const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');

/** The error `promise` rejects with; if it resolves, the test fails. */
export function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => error,
  );
}
