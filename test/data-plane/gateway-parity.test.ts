// Our gateway against the real @platformatic/gateway from npm on the same watt.json `gateway`
// block: the same table of raw requests (empty segments, percent-encoding in and around route
// prefixes, trailing slashes, query strings, methods) goes to both, and each must give the
// same status and send the same path to the same upstream.
import { once } from 'node:events';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayConfigInput } from '../../api/gateway-config.ts';
import { createLogger } from '../../lib/logger.ts';
import { resolveGatewayConfig } from '../../proxy/config.ts';
import { type RunningGateway, startGateway } from '../../proxy/server.ts';
import {
  type PlatformaticGateway,
  startPlatformaticGateway,
} from '../support/platformatic-gateway.ts';

const APPS = ['optimizer', 'fallback', 'api', 'shop', 'cms', 'spaced', 'accent'] as const;

/** The guide's two applications plus prefixes that make a router work. */
function gatewayBlock(origins: Record<string, string>): GatewayConfigInput['gateway'] {
  return {
    applications: [
      {
        id: 'optimizer',
        origin: origins.optimizer,
        proxy: { prefix: '/', routes: ['/_next/image'], methods: ['GET'] },
      },
      { id: 'fallback', origin: origins.fallback, proxy: { prefix: '/', routes: ['/*'] } },
      // No proxy block: mounted at /<id>.
      { id: 'api', origin: origins.api },
      { id: 'shop', origin: origins.shop, proxy: { prefix: '/shop/', routes: ['/', '/*'] } },
      {
        id: 'cms',
        origin: origins.cms,
        proxy: { prefix: 'cms', routes: ['/pages/:slug'], methods: ['GET'] },
      },
      // Percent-encoded characters in the prefixes themselves.
      { id: 'spaced', origin: origins.spaced, proxy: { prefix: '/a%20b', routes: ['/*'] } },
      { id: 'accent', origin: origins.accent, proxy: { prefix: '/caf%C3%A9', routes: ['/*'] } },
    ],
  };
}

const PATHS = [
  '/',
  '//',
  '//x',
  '///x',
  '/a//b',
  '/a/b/',
  '/about?x=1',
  '/about?x=1&x=2&empty=&flag',
  '/about?q=%2F%3F%26',
  '/_next/image?url=%2Fa.png&w=64&q=75',
  '/_next/image/?url=%2Fa.png',
  '/_next//image',
  '//_next/image',
  '/_next/%69mage?url=%2Fa.png',
  '/_next/image%2F',
  '/_next%2Fimage',
  '/_next/IMAGE',
  '/api',
  '/api/',
  '/api//',
  '/api//users',
  '/api/users?page=2',
  '/api/users/',
  '/api%2Fusers',
  '/%61pi/users',
  '/apix',
  '/shop',
  '/shop/',
  '/shop//cart',
  '/shop/cart',
  '/shop/cart/',
  '/shop/%63art',
  '/shop/%2e%2e/admin',
  '/shop/..%2Fadmin',
  '/shop%2F',
  '/cms/pages/about',
  '/cms/pages/',
  '/cms/pages/a%2Fb',
  '/cms/pages/about/team',
  '/cms//pages/about',
  '/a%20b/x',
  '/a%20b',
  '/a%20b/',
  '/a%20b//x',
  '/a%2520b/x',
  '/caf%C3%A9/menu',
  '/caf%c3%a9/menu',
  '/caf%C3%A9',
  '/caf%C3/x',
  // The router decodes the request path once, so an encoded prefix is reached encoded twice.
  '/caf%25C3%25A9/menu',
  '/%',
  '/%zz',
  '/x%00y',
  '/x%2e%2e/y',
  '/x/%2e%2e/y',
  '/x?',
  '/x?#frag',
  '/x;jsessionid=1',
];

const CASES: Array<[method: string, path: string]> = [
  ...PATHS.map((path): [string, string] => ['GET', path]),
  ...[
    '/',
    '/_next/image?url=%2Fa.png&w=64&q=75',
    '//x',
    '/a//b',
    '/api//users',
    '/shop/',
    '/a%20b/x',
  ].flatMap(
    (path): Array<[string, string]> => [
      ['HEAD', path],
      ['POST', path],
      ['DELETE', path],
    ],
  ),
  ['OPTIONS', '/_next/image'],
  ['PUT', '/cms/pages/about'],
  ['PATCH', '/shop/cart'],
  ['TRACE', '/'],
];

/** What a client sees of one answer: the status, and which upstream got which path. */
interface Answer {
  status: number;
  upstream: string;
}

/** Sends `path` byte for byte (no client-side normalisation) and reads the answer. */
async function send(base: string, method: string, path: string): Promise<Answer> {
  const { hostname, port } = new URL(base);
  const req = httpRequest({ host: hostname, port, method, path, agent: false });
  req.end();
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  res.resume();
  await once(res, 'end');
  const app = res.headers['x-app'];
  const url = res.headers['x-upstream-url'];
  return {
    status: res.statusCode ?? 0,
    upstream: typeof app === 'string' ? `${app} ${decodeURIComponent(String(url))}` : '-',
  };
}

const servers: Server[] = [];
let ours: RunningGateway;
let reference: PlatformaticGateway;

beforeAll(async () => {
  const origins: Record<string, string> = {};
  for (const app of APPS) {
    const server = createServer((req, res) => {
      req.resume();
      res.setHeader('x-app', app);
      res.setHeader('x-upstream-url', encodeURIComponent(req.url ?? ''));
      res.end('ok');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    servers.push(server);
    origins[app] = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  const block = gatewayBlock(origins);
  // A copy: Platformatic fills its defaults into the object it is given.
  reference = await startPlatformaticGateway(structuredClone(block));
  ours = await startGateway(resolveGatewayConfig({ gateway: block }), {
    host: '127.0.0.1',
    port: 0,
    adminPort: 0,
    logger: createLogger('gateway-parity', 'silent'),
    defaultMetrics: false,
  });
}, 60_000);

afterAll(async () => {
  await ours?.close();
  await reference?.close();
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

describe('gateway parity with @platformatic/gateway on the same config', () => {
  it(`answers all ${CASES.length} requests as the reference does`, async () => {
    expect(CASES.length).toBeGreaterThanOrEqual(72);
    const differences: string[] = [];
    const answers: string[] = [];
    for (const [method, path] of CASES) {
      const theirs = await send(reference.url, method, path);
      const mine = await send(ours.url, method, path);
      const line = `${method} ${path}: reference ${theirs.status} ${theirs.upstream}, ours ${mine.status} ${mine.upstream}`;
      answers.push(line);
      if (theirs.status !== mine.status || theirs.upstream !== mine.upstream)
        differences.push(line);
    }
    if (process.env.PARITY_DUMP) process.stderr.write(`${answers.join('\n')}\n`);
    expect(differences, answers.join('\n')).toEqual([]);
    // The table means something only if it reaches every upstream and the router's refusals.
    const reached = new Set(answers.map((a) => a.split(', ours ')[1]?.split(' ')[1]));
    for (const app of APPS) expect(reached).toContain(app);
    expect(answers.some((a) => / ours 400 /.test(a))).toBe(true);
    expect(answers.some((a) => / ours 404 /.test(a))).toBe(true);
  }, 60_000);
});
