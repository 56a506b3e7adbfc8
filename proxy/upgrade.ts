import { request as httpRequest, type IncomingMessage, STATUS_CODES } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../lib/logger.ts';
import { upstreamFailure } from './errors.ts';
import { HOP_BY_HOP, withForwarded } from './headers.ts';
import { type GatewayMetrics, NO_APPLICATION } from './metrics.ts';
import type { RouteTable } from './route-table.ts';
import { targetUrl, type Upstream } from './upstreams.ts';

export interface UpgradeOptions {
  table: RouteTable;
  upstreams: Map<string, Upstream>;
  metrics: GatewayMetrics;
  logger: Logger;
  /** Time allowed for the upstream's answer to the upgrade request (0 = none). */
  timeout: number;
  trustForwardedHeaders: boolean;
}

/** Writes a complete HTTP/1.1 response on a socket that has not been upgraded, then ends it. */
function refuse(socket: Duplex, status: number, body: object): void {
  const text = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
      'content-type: application/json; charset=utf-8\r\n' +
      `content-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`,
  );
}

/** The response head for `res`, raw header names and repeats kept. */
function head(res: IncomingMessage, keepUpgradeHeaders: boolean): string {
  let out = `HTTP/1.1 ${res.statusCode ?? 502} ${res.statusMessage ?? ''}\r\n`;
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
    const name = res.rawHeaders[i] ?? '';
    const lower = name.toLowerCase();
    const hop =
      HOP_BY_HOP.has(lower) &&
      !(keepUpgradeHeaders && (lower === 'connection' || lower === 'upgrade'));
    if (!hop) out += `${name}: ${res.rawHeaders[i + 1] ?? ''}\r\n`;
  }
  return `${out}${keepUpgradeHeaders ? '' : 'connection: close\r\n'}\r\n`;
}

/**
 * Tunnels upgrade requests (WebSocket and any other protocol) to the application the route
 * table picks for GET on that path; a path no GET route allows gets 404. After the upstream's
 * 101 the two sockets are piped, bytes untouched. Returns a function that destroys every open
 * tunnel (for shutdown: an upgraded socket would otherwise keep the server from closing).
 */
export function handleUpgrades(
  server: {
    on(
      event: 'upgrade',
      listener: (req: IncomingMessage, socket: Duplex, head: Buffer) => void,
    ): unknown;
  },
  options: UpgradeOptions,
): () => void {
  const open = new Set<Duplex>();
  server.on('upgrade', (req, socket, early) => {
    const match = req.method === 'GET' ? options.table.match('GET', req.url ?? '/') : undefined;
    const upstream = match === undefined ? undefined : options.upstreams.get(match.application);
    if (match === undefined || upstream === undefined) {
      options.metrics.upgrades.inc({ application: NO_APPLICATION, outcome: 'no_route' });
      refuse(socket, 404, {
        statusCode: 404,
        code: 'GATEWAY_NO_ROUTE',
        error: 'Not Found',
        message: `no application accepts ${req.method ?? 'GET'} upgrades on ${(req.url ?? '/').split('?')[0]}`,
      });
      return;
    }
    const application = match.application;
    const target = new URL(targetUrl(upstream, match));
    const headers = withForwarded(
      { ...req.headers, host: target.host },
      { remoteAddress: req.socket.remoteAddress, protocol: 'http', host: req.headers.host },
      options.trustForwardedHeaders,
    );
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const outgoing = send(target, { method: 'GET', headers, timeout: options.timeout });
    // A client that leaves mid-handshake must not leave the upstream request waiting.
    let upgraded = false;
    let abandoned = false;
    const abandon = (): void => {
      if (upgraded || abandoned) return;
      abandoned = true;
      outgoing.destroy();
    };
    socket.on('error', abandon);
    socket.on('close', abandon);
    outgoing.on('timeout', () =>
      outgoing.destroy(Object.assign(new Error('upgrade timed out'), { code: 'ETIMEDOUT' })),
    );
    outgoing.on('error', (error) => {
      if (abandoned) return;
      const failure = upstreamFailure(error, application, upstream.origin);
      options.metrics.upgrades.inc({ application, outcome: String(failure.statusCode) });
      options.logger.error({ err: error, application }, failure.message);
      if (socket.writable) refuse(socket, failure.statusCode, failure);
    });
    // The upstream answered without upgrading: relay its answer and close.
    outgoing.on('response', (res) => {
      options.metrics.upgrades.inc({ application, outcome: String(res.statusCode) });
      socket.write(head(res, false));
      res.pipe(socket);
    });
    outgoing.on('upgrade', (res, upstreamSocket: Socket, upstreamEarly: Buffer) => {
      upgraded = true;
      outgoing.setTimeout(0);
      options.metrics.upgrades.inc({ application, outcome: '101' });
      options.metrics.openUpgrades.inc({ application });
      open.add(socket);
      open.add(upstreamSocket);
      socket.write(head(res, true));
      if (upstreamEarly.length > 0) socket.write(upstreamEarly);
      if (early.length > 0) upstreamSocket.write(early);
      let closed = false;
      const close = (): void => {
        if (closed) return;
        closed = true;
        options.metrics.openUpgrades.dec({ application });
        open.delete(socket);
        open.delete(upstreamSocket);
        socket.destroy();
        upstreamSocket.destroy();
      };
      for (const side of [socket, upstreamSocket]) {
        side.on('error', close);
        side.on('close', close);
      }
      upstreamSocket.pipe(socket);
      socket.pipe(upstreamSocket);
    });
    outgoing.end();
  });
  return () => {
    for (const socket of open) socket.destroy();
  };
}
