import { once } from 'node:events';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import type { GatewayConfigInput } from '../api/gateway-config.ts';
import { createLogger } from '../lib/logger.ts';
import { resolveGatewayConfig } from './config.ts';
import { type RunningGateway, startGateway } from './server.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

interface Upstream {
  url: string;
  server: Server;
  close(): Promise<void>;
}

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** A loopback origin; `handler` answers every request. */
async function upstream(handler: Handler): Promise<Upstream> {
  const sockets = new Set<Socket>();
  const server = createServer(handler);
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const close = async (): Promise<void> => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  closers.push(close);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, close };
}

/** An origin that answers with a JSON description of what it received. */
function echo(name: string): Promise<Upstream> {
  return upstream((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.stringify({
        app: name,
        method: req.method,
        url: req.url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      res.writeHead(200, { 'content-type': 'application/json', 'x-app': name });
      res.end(req.method === 'HEAD' ? undefined : body);
    });
  });
}

async function gateway(config: GatewayConfigInput): Promise<RunningGateway> {
  const running = await startGateway(resolveGatewayConfig(config), {
    host: '127.0.0.1',
    port: 0,
    adminPort: 0,
    logger: createLogger('gateway-test', 'silent'),
    defaultMetrics: false,
  });
  closers.push(() => running.close());
  return running;
}

/** The guide's gateway config, with discovery pointing at two fixture origins. */
async function guideGateway(): Promise<{
  gw: RunningGateway;
  optimizer: Upstream;
  fallback: Upstream;
}> {
  const optimizer = await echo('optimizer');
  const fallback = await echo('fallback');
  const gw = await gateway({
    gateway: {
      applications: [
        { id: 'optimizer', proxy: { prefix: '/', routes: ['/_next/image'], methods: ['GET'] } },
        { id: 'fallback', proxy: { prefix: '/', routes: ['/*'] } },
      ],
    },
    discovery: { apps: { optimizer: optimizer.url, fallback: fallback.url } },
  });
  return { gw, optimizer, fallback };
}

async function json(
  url: string,
  options: Parameters<typeof request>[1] = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await request(url, options);
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
}

describe('gateway routing', () => {
  it('sends GET /_next/image to the optimizer and everything else to the fallback, as the guide says', async () => {
    const { gw } = await guideGateway();
    const image = await json(`${gw.url}/_next/image?url=%2Fa.png&w=1080&q=75`);
    expect(image.body).toMatchObject({
      app: 'optimizer',
      method: 'GET',
      url: '/_next/image?url=%2Fa.png&w=1080&q=75',
    });
    const head = await request(`${gw.url}/_next/image?url=%2Fa.png&w=1080&q=75`, {
      method: 'HEAD',
    });
    expect(head.headers['x-app']).toBe('optimizer');
    await head.body.dump();
    const post = await json(`${gw.url}/_next/image`, {
      method: 'POST',
      body: 'form=1',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(post.body).toMatchObject({ app: 'fallback', method: 'POST', body: 'form=1' });
    expect((await json(`${gw.url}/`)).body).toMatchObject({ app: 'fallback', url: '/' });
    expect((await json(`${gw.url}/about?x=1`)).body).toMatchObject({
      app: 'fallback',
      url: '/about?x=1',
    });
  });

  it('strips the prefix of an application mounted at /<id> and keeps the query', async () => {
    const api = await echo('api');
    const gw = await gateway({ gateway: { applications: [{ id: 'api', origin: api.url }] } });
    expect((await json(`${gw.url}/api/users?page=2`)).body).toMatchObject({ url: '/users?page=2' });
    expect((await json(`${gw.url}/api`)).body).toMatchObject({ url: '/' });
  });

  it('answers 404 with a clear body when no application handles the request', async () => {
    const { gw } = await guideGateway();
    const res = await json(`${gw.url}/x`, { method: 'TRACE' });
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({
      code: 'GATEWAY_NO_ROUTE',
      message: 'no application handles TRACE /x',
    });
  });

  it('streams request bodies of any content type (and none) to the upstream', async () => {
    const { gw } = await guideGateway();
    const bodies = [
      { headers: { 'content-type': 'application/json' }, body: '{"a":1}' },
      { headers: { 'content-type': 'multipart/form-data; boundary=x' }, body: '--x--' },
      { headers: {}, body: 'raw bytes' },
    ];
    for (const { headers, body } of bodies) {
      expect((await json(`${gw.url}/upload`, { method: 'PUT', headers, body })).body).toMatchObject(
        { method: 'PUT', body },
      );
    }
  });
});

describe('gateway headers', () => {
  it('preserves status, Vary, ETag, Cache-Control and every Set-Cookie; strips hop-by-hop headers', async () => {
    const origin = await upstream((_req, res) => {
      res.setHeader('vary', 'Accept');
      res.setHeader('etag', '"abc"');
      res.setHeader('cache-control', 'public, max-age=60, must-revalidate');
      res.setHeader('set-cookie', ['a=1; Path=/', 'b=2; HttpOnly']);
      res.setHeader('keep-alive', 'timeout=5');
      res.setHeader('connection', 'x-internal');
      res.setHeader('x-internal', 'secret');
      res.setHeader('x-custom', 'kept');
      res.writeHead(418);
      res.end('teapot');
    });
    const gw = await gateway({
      gateway: { applications: [{ id: 'web', origin: origin.url, proxy: { prefix: '/' } }] },
    });
    const res = await request(`${gw.url}/`);
    expect(res.statusCode).toBe(418);
    expect(res.headers.vary).toBe('Accept');
    expect(res.headers.etag).toBe('"abc"');
    expect(res.headers['cache-control']).toBe('public, max-age=60, must-revalidate');
    expect(res.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2; HttpOnly']);
    expect(res.headers['x-custom']).toBe('kept');
    expect(res.headers['x-internal']).toBeUndefined();
    expect(res.headers['keep-alive']).not.toBe('timeout=5');
    expect(await res.body.text()).toBe('teapot');
  });

  it("puts a relative redirect back under the application's prefix, as Platformatic does", async () => {
    const origin = await upstream((_req, res) => {
      res.writeHead(302, { location: '/login?next=%2Fcart' });
      res.end();
    });
    const gw = await gateway({ gateway: { applications: [{ id: 'shop', origin: origin.url }] } });
    const res = await request(`${gw.url}/shop/cart`);
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe('/shop/login?next=%2Fcart');
    await res.body.dump();
  });

  it('passes 304s through with their validators', async () => {
    const origin = await upstream((req, res) => {
      if (req.headers['if-none-match'] === '"v1"') {
        res.writeHead(304, { etag: '"v1"', 'cache-control': 'max-age=60' });
        res.end();
        return;
      }
      res.writeHead(200, { etag: '"v1"' });
      res.end('body');
    });
    const gw = await gateway({
      gateway: { applications: [{ id: 'web', origin: origin.url, proxy: { prefix: '/' } }] },
    });
    const res = await request(`${gw.url}/img`, { headers: { 'if-none-match': '"v1"' } });
    expect(res.statusCode).toBe(304);
    expect(res.headers.etag).toBe('"v1"');
    await res.body.dump();
  });

  it('strips hop-by-hop request headers and adds x-forwarded-for/-proto/-host', async () => {
    const { gw } = await guideGateway();
    // node:http, because undici will not send a Connection header that names other headers.
    const req = httpRequest(`${gw.url}/h`, {
      headers: {
        connection: 'keep-alive, x-private',
        'x-private': 'no',
        'proxy-authorization': 'Basic Zm9v',
        te: 'trailers',
        'x-forwarded-for': '203.0.113.9',
        'x-forwarded-proto': 'https',
        cookie: 'session=1',
        accept: 'image/webp',
      },
      agent: false,
    });
    req.end();
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>;
    const headers = body.headers as Record<string, string>;
    expect(headers['x-private']).toBeUndefined();
    expect(headers['proxy-authorization']).toBeUndefined();
    expect(headers.te).toBeUndefined();
    expect(headers.cookie).toBe('session=1');
    expect(headers.accept).toBe('image/webp');
    expect(headers['x-forwarded-for']).toMatch(/^203\.0\.113\.9, (::ffff:)?127\.0\.0\.1$/);
    expect(headers['x-forwarded-proto']).toBe('http');
    expect(headers['x-forwarded-host']).toBe(new URL(gw.url).host);
  });

  it('keeps an ingress-set x-forwarded-proto/-host when trustForwardedHeaders is on', async () => {
    const web = await echo('web');
    const gw = await gateway({
      gateway: { applications: [{ id: 'web', origin: web.url, proxy: { prefix: '/' } }] },
      trustForwardedHeaders: true,
    });
    const { body } = await json(`${gw.url}/`, {
      headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'shop.example' },
    });
    expect(body.headers).toMatchObject({
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'shop.example',
    });
  });
});

describe('gateway upstream failures', () => {
  it('answers 502 with a clear body when the upstream refuses the connection', async () => {
    const gone = await upstream(() => {});
    await gone.close();
    const gw = await gateway({
      gateway: { applications: [{ id: 'web', origin: gone.url, proxy: { prefix: '/' } }] },
    });
    const res = await json(`${gw.url}/page`);
    expect(res.status).toBe(502);
    expect(res.body).toMatchObject({
      code: 'GATEWAY_UPSTREAM_REFUSED',
      message: `application "web" at ${gone.url} refused the connection (is it running?)`,
    });
  });

  it('answers 504 when the upstream does not send headers within upstream.timeout', async () => {
    const hung = await upstream(() => {}); // accepts, never answers
    const gw = await gateway({
      gateway: { applications: [{ id: 'slow', origin: hung.url, proxy: { prefix: '/' } }] },
      upstream: { timeout: 200 },
    });
    const res = await json(`${gw.url}/slow`);
    expect(res.status).toBe(504);
    expect(res.body).toMatchObject({ code: 'GATEWAY_UPSTREAM_TIMEOUT' });
    expect(String(res.body.message)).toContain('application "slow"');
  });

  it('passes an upstream 503 (the optimizer shedding load) through without retrying', async () => {
    let hits = 0;
    const busy = await upstream((_req, res) => {
      hits++;
      res.writeHead(503, { 'retry-after': '1' });
      res.end('busy');
    });
    const gw = await gateway({
      gateway: { applications: [{ id: 'b', origin: busy.url, proxy: { prefix: '/' } }] },
    });
    const res = await request(`${gw.url}/_next/image`);
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    await res.body.dump();
    expect(hits).toBe(1);
  });
});

describe('gateway retries (a connection that fails before any response byte)', () => {
  /** An origin whose first `failures` requests have their connection reset, unanswered. */
  async function flaky(failures: number): Promise<{ origin: Upstream; hits: () => number }> {
    let hits = 0;
    const origin = await upstream((req, res) => {
      hits++;
      req.resume();
      if (hits <= failures) req.socket.destroy();
      else res.end(`answer ${hits}`);
    });
    return { origin, hits: () => hits };
  }

  it('sends a GET again on a fresh connection, and counts it', async () => {
    const { origin, hits } = await flaky(1);
    const gw = await gateway({
      gateway: { applications: [{ id: 'web', origin: origin.url, proxy: { prefix: '/' } }] },
    });
    const res = await request(`${gw.url}/page`);
    expect(res.statusCode).toBe(200);
    expect(await res.body.text()).toBe('answer 2');
    expect(hits()).toBe(2);
    const metrics = await (await request(`${gw.adminUrl}/metrics`)).body.text();
    expect(metrics).toMatch(/gateway_upstream_retries_total\{application="web",code="[A-Z_]+"\} 1/);
  });

  it('gives up after three retries with the 502 that names the upstream', async () => {
    const { origin, hits } = await flaky(10);
    const gw = await gateway({
      gateway: { applications: [{ id: 'web', origin: origin.url, proxy: { prefix: '/' } }] },
    });
    const res = await json(`${gw.url}/page`);
    expect(res.status).toBe(502);
    expect(String(res.body.message)).toContain('application "web"');
    expect(hits()).toBe(4);
  });

  it('never sends a POST twice', async () => {
    const { origin, hits } = await flaky(1);
    const gw = await gateway({
      gateway: { applications: [{ id: 'web', origin: origin.url, proxy: { prefix: '/' } }] },
    });
    const res = await json(`${gw.url}/form`, { method: 'POST', body: 'a=1' });
    expect(res.status).toBe(502);
    expect(hits()).toBe(1);
  });

  it('does not retry once the upstream has answered, even if the body then breaks', async () => {
    let hits = 0;
    const origin = await upstream((_req, res) => {
      hits++;
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const gw = await gateway({
      gateway: { applications: [{ id: 'web', origin: origin.url, proxy: { prefix: '/' } }] },
    });
    const res = await request(`${gw.url}/page`);
    expect(res.statusCode).toBe(200);
    await expect(res.body.text()).rejects.toThrow();
    expect(hits).toBe(1);
  });
});

describe('gateway streaming', () => {
  it('passes server-sent events through one by one', async () => {
    let release: () => void = () => {};
    const secondMayGo = new Promise<void>((resolve) => {
      release = resolve;
    });
    const sse = await upstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write('data: one\n\n');
      // The second event waits until the client has seen the first: a buffering proxy deadlocks.
      secondMayGo.then(() => res.end('data: two\n\n'));
    });
    const gw = await gateway({
      gateway: { applications: [{ id: 'sse', origin: sse.url, proxy: { prefix: '/' } }] },
    });
    const res = await request(`${gw.url}/events`);
    expect(res.headers['content-type']).toBe('text/event-stream');
    let seen = '';
    for await (const chunk of res.body) {
      seen += chunk.toString();
      if (seen === 'data: one\n\n') release();
    }
    expect(seen).toBe('data: one\n\ndata: two\n\n');
  });
});

describe('gateway WebSocket upgrades', () => {
  async function wsUpstream(): Promise<Upstream> {
    const origin = await upstream((_req, res) => {
      res.writeHead(426);
      res.end();
    });
    const wss = new WebSocketServer({ server: origin.server });
    wss.on('connection', (socket, req) => {
      socket.on('message', (data) =>
        socket.send(
          `${req.url} ${req.headers['x-forwarded-for'] !== undefined} ${data.toString()}`,
        ),
      );
    });
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          for (const client of wss.clients) client.terminate();
          wss.close(() => resolve());
        }),
    );
    return origin;
  }

  it('tunnels an upgrade on a route that allows GET, both ways', async () => {
    const ws = await wsUpstream();
    const web = await echo('web');
    const gw = await gateway({
      gateway: {
        applications: [
          {
            id: 'live',
            origin: ws.url,
            proxy: { prefix: '/live', routes: ['/*'], methods: ['GET'] },
          },
          { id: 'web', origin: web.url, proxy: { prefix: '/', routes: ['/*'], methods: ['POST'] } },
        ],
      },
    });
    const client = new WebSocket(`${gw.url.replace('http', 'ws')}/live/chat?room=1`);
    closers.push(async () => client.terminate());
    await once(client, 'open');
    client.send('hello');
    const [message] = (await once(client, 'message')) as [Buffer];
    expect(message.toString()).toBe('/chat?room=1 true hello');
    const metrics = await (await request(`${gw.adminUrl}/metrics`)).body.text();
    expect(metrics).toContain('gateway_upgrades_total{application="live",outcome="101"} 1');
    expect(metrics).toContain('gateway_upgrades_open{application="live"} 1');
  });

  it('refuses an upgrade no GET route allows with 404', async () => {
    const ws = await wsUpstream();
    const gw = await gateway({
      gateway: {
        applications: [
          {
            id: 'live',
            origin: ws.url,
            proxy: { prefix: '/', routes: ['/live'], methods: ['GET'] },
          },
        ],
      },
    });
    const client = new WebSocket(`${gw.url.replace('http', 'ws')}/elsewhere`);
    closers.push(async () => client.terminate());
    client.on('error', () => {});
    const [, res] = (await once(client, 'unexpected-response')) as [unknown, IncomingMessage];
    expect(res.statusCode).toBe(404);
    res.resume();
  });

  it('closes open tunnels when the gateway stops', async () => {
    const ws = await wsUpstream();
    const gw = await gateway({
      gateway: { applications: [{ id: 'live', origin: ws.url, proxy: { prefix: '/' } }] },
    });
    const client = new WebSocket(`${gw.url.replace('http', 'ws')}/x`);
    client.on('error', () => {});
    await once(client, 'open');
    const closed = once(client, 'close');
    await gw.close();
    await closed;
  });
});

describe('gateway admin listener', () => {
  it('serves /healthz, /readyz and /metrics on its own port, leaving the apps their paths', async () => {
    const { gw } = await guideGateway();
    expect(gw.adminPort).not.toBe(gw.port);
    expect((await json(`${gw.adminUrl}/healthz`)).status).toBe(200);
    expect((await json(`${gw.adminUrl}/readyz`)).body).toEqual({ status: 'ready' });
    // On the proxy port these are the fallback's paths.
    expect((await json(`${gw.url}/healthz`)).body).toMatchObject({
      app: 'fallback',
      url: '/healthz',
    });
    await (await request(`${gw.url}/_next/image?url=%2Fa.png&w=64&q=75`)).body.dump();
    await (await request(`${gw.url}/nope`, { method: 'TRACE' })).body.dump();
    const metrics = await (await request(`${gw.adminUrl}/metrics`)).body.text();
    expect(metrics).toContain('gateway_requests_total{application="optimizer",status="200"} 1');
    expect(metrics).toContain('gateway_requests_total{application="fallback",status="200"} 1');
    expect(metrics).toContain('gateway_requests_total{application="none",status="404"} 1');
    expect(metrics).toMatch(/gateway_upstream_duration_seconds_count\{application="optimizer"\} 1/);
  });
});
