import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import type { SampleImages } from './sample-images.ts';
import { streamRepeated } from './stream-body.ts';

/** A fixture origin on 127.0.0.1 that counts requests per path and records their headers. */
export interface FixtureUpstream {
  url: string;
  /** Requests seen per pathname. */
  hits: Map<string, number>;
  /** The headers of the last request per pathname. */
  lastHeaders: Map<string, IncomingMessage['headers']>;
  /** Sockets closed by the client so far (to prove a timeout really hung up). */
  closedSockets: () => number;
  /** Adds or replaces a route. */
  route(
    path: string,
    handler: (req: IncomingMessage, res: ServerResponse, hit: number) => void,
  ): void;
  close(): Promise<void>;
}

function send(res: ServerResponse, body: Buffer, headers: Record<string, string> = {}): void {
  res.writeHead(200, { 'content-length': String(body.length), ...headers });
  res.end(body);
}

/** Starts the fixture with the standard routes of the optimizer tests. */
export async function startFixtureUpstream(images: SampleImages): Promise<FixtureUpstream> {
  const hits = new Map<string, number>();
  const lastHeaders = new Map<string, IncomingMessage['headers']>();
  const routes = new Map<
    string,
    (req: IncomingMessage, res: ServerResponse, hit: number) => void
  >();
  const sockets = new Set<Socket>();
  let closed = 0;

  const fixed: Record<string, [Buffer, Record<string, string>?]> = {
    '/photo.jpg': [images.jpeg, { 'cache-control': 'public, max-age=3600' }],
    '/photo.png': [images.png],
    '/photo.webp': [images.webp],
    '/photo.avif': [images.avif],
    '/static.gif': [images.gif],
    '/animated.gif': [images.animatedGif, { etag: 'W/"c2-anim"' }],
    '/logo.svg': [images.svg],
    '/favicon.ico': [images.ico],
    '/image.bmp': [images.bmp],
    '/rotated.jpg': [images.rotatedJpeg],
    '/bomb.png': [images.pixelBomb],
    '/page.html': [
      Buffer.from('<!doctype html><html><body>hi</body></html>'),
      { 'content-type': 'text/html' },
    ],
    '/png-as-html': [images.png, { 'content-type': 'text/html' }],
    '/empty.png': [Buffer.alloc(0)],
  };
  for (const [path, [body, headers]] of Object.entries(fixed))
    routes.set(path, (_req, res) => send(res, body, headers));
  routes.set('/no-content.png', (_req, res) => {
    res.writeHead(204);
    res.end();
  });
  routes.set('/missing.png', (_req, res) => {
    res.writeHead(404);
    res.end('not found');
  });
  routes.set('/flaky.jpg', (_req, res, hit) => {
    if (hit <= 2) {
      res.writeHead(500);
      res.end('boom');
    } else send(res, images.jpeg);
  });
  routes.set('/always-500.jpg', (_req, res) => {
    res.writeHead(500);
    res.end('boom');
  });
  routes.set('/hang.jpg', () => {
    // Never answers: the optimizer's timeout must hang up.
  });
  routes.set('/slow.jpg', (_req, res) => {
    setTimeout(() => send(res, images.jpeg), 300);
  });
  routes.set('/gzip.jpg', (_req, res) =>
    send(res, gzipSync(images.jpeg), { 'content-encoding': 'gzip' }),
  );
  routes.set('/big.jpg', (_req, res) => {
    res.writeHead(200);
    const chunk = Buffer.alloc(64 * 1024, 1);
    chunk.set(images.jpeg.subarray(0, 3));
    streamRepeated(res, chunk, 200 * 1024 * 1024);
  });
  for (let i = 0; i < 5; i++) {
    routes.set(`/redirect-${i}`, (_req, res) => {
      res.writeHead(302, { location: i === 0 ? '/photo.jpg' : `/redirect-${i - 1}` });
      res.end();
    });
  }

  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const hit = (hits.get(path) ?? 0) + 1;
    hits.set(path, hit);
    lastHeaders.set(path, req.headers);
    const handler = routes.get(path);
    if (handler === undefined) {
      res.writeHead(404);
      res.end();
      return;
    }
    handler(req, res, hit);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      closed++;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    lastHeaders,
    closedSockets: () => closed,
    route: (path, handler) => routes.set(path, handler),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
