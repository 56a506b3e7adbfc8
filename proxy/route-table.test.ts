import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { GatewayConfigSchema, type GatewayMethod } from '../api/gateway-config.ts';
import { RouteConflictError } from './errors.ts';
import { RouteTable, type TableApplication, tableApplications } from './route-table.ts';

const ALL: GatewayMethod[] = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];
const app = (
  id: string,
  prefix: string | undefined,
  routes: string[] = ['/', '/*'],
  methods: GatewayMethod[] = ALL,
): TableApplication => ({ id, prefix, routes, methods });

/** The guide's gateway watt.json (section 3), parsed by our schema. */
const guideConfig = GatewayConfigSchema.parse({
  $schema: 'https://schemas.platformatic.dev/@platformatic/gateway/3.0.0.json',
  gateway: {
    applications: [
      { id: 'optimizer', proxy: { prefix: '/', routes: ['/_next/image'], methods: ['GET'] } },
      { id: 'fallback', proxy: { prefix: '/', routes: ['/*'] } },
    ],
  },
  discovery: { apps: { optimizer: 'http://127.0.0.1:1', fallback: 'http://127.0.0.1:2' } },
});

/** The guide's production topology (section 9): frontend instead of fallback. */
const productionConfig = GatewayConfigSchema.parse({
  gateway: {
    applications: [
      { id: 'optimizer', proxy: { prefix: '/', routes: ['/_next/image'], methods: ['GET'] } },
      { id: 'frontend', proxy: { prefix: '/', routes: ['/*'] } },
    ],
  },
  discovery: { namespace: 'shop' },
});

type Case = [
  method: string,
  url: string,
  application: string | undefined,
  rest?: string,
  query?: string,
];

const scenarios: Array<{ name: string; apps: TableApplication[]; cases: Case[] }> = [
  {
    name: "the guide's config",
    apps: tableApplications(guideConfig),
    cases: [
      [
        'GET',
        '/_next/image?url=/platformatic.png&w=1080&q=75',
        'optimizer',
        '/_next/image',
        '?url=/platformatic.png&w=1080&q=75',
      ],
      ['HEAD', '/_next/image?url=/a.png&w=64&q=75', 'optimizer', '/_next/image'],
      ['POST', '/_next/image', 'fallback', '/_next/image'],
      ['PUT', '/_next/image', 'fallback'],
      ['DELETE', '/_next/image', 'fallback'],
      ['PATCH', '/_next/image', 'fallback'],
      ['OPTIONS', '/_next/image', 'fallback'],
      ['GET', '/', 'fallback', '/'],
      ['HEAD', '/', 'fallback'],
      ['GET', '/about?x=1', 'fallback', '/about', '?x=1'],
      ['GET', '/platformatic.png', 'fallback'],
      ['GET', '/_next/image/', 'fallback'],
      ['GET', '/_next/imagex', 'fallback'],
      ['GET', '/_next/IMAGE', 'fallback'],
      ['GET', '/_next/static/chunks/main.js', 'fallback'],
      ['GET', '/_next/%69mage?url=/a.png', 'optimizer', '/_next/%69mage'],
      ['POST', '/api/form', 'fallback'],
      ['TRACE', '/', undefined],
    ],
  },
  {
    name: "the guide's production topology (section 9)",
    apps: tableApplications(productionConfig),
    cases: [
      ['GET', '/_next/image?url=%2Fhero.jpg&w=1080&q=75', 'optimizer'],
      ['HEAD', '/_next/image', 'optimizer'],
      ['POST', '/_next/image', 'frontend'],
      ['GET', '/', 'frontend'],
      ['GET', '/products/42', 'frontend', '/products/42'],
      ['POST', '/api/cart', 'frontend'],
    ],
  },
  {
    name: 'specificity, not file order, picks the application',
    apps: [app('fallback', '/', ['/*']), app('optimizer', '/', ['/_next/image'], ['GET'])],
    cases: [
      ['GET', '/_next/image', 'optimizer'],
      ['POST', '/_next/image', 'fallback'],
      ['GET', '/other', 'fallback'],
    ],
  },
  {
    name: 'no prefix mounts the application at /<id> and strips it',
    apps: [app('api', undefined), app('web', '/', ['/*'])],
    cases: [
      ['GET', '/api', 'api', ''],
      ['GET', '/api/', 'api', '/'],
      ['GET', '/api/users?page=2', 'api', '/users', '?page=2'],
      ['DELETE', '/api/users/1', 'api', '/users/1'],
      ['GET', '/apix', 'web', '/apix'],
      ['GET', '/', 'web', '/'],
    ],
  },
  {
    name: 'a prefix with routes below it',
    apps: [
      app('shop', '/shop/', ['/*']),
      app('cms', 'cms', ['/pages/:slug'], ['GET']),
      app('web', '/', ['/*']),
    ],
    cases: [
      ['GET', '/shop/cart', 'shop', '/cart'],
      ['GET', '/shop/', 'shop', '/'],
      ['GET', '/shop', 'web', '/shop'],
      ['GET', '/cms/pages/about', 'cms', '/pages/about'],
      ['GET', '/cms/pages/', 'cms', '/pages/'],
      ['GET', '/cms/pages/about/team', 'web'],
      ['POST', '/cms/pages/about', 'web'],
    ],
  },
  {
    name: 'parameters beat wildcards, longer static runs beat shorter, with backtracking',
    apps: [
      app('users', '/', ['/users/:id'], ['GET']),
      app('assets', '/', ['/assets/*'], ['GET']),
      app('web', '/', ['/*'], ['GET']),
    ],
    cases: [
      ['GET', '/users/1', 'users', '/users/1'],
      ['GET', '/users/1/posts', 'web'],
      ['GET', '/users', 'web'],
      ['GET', '/assets/app.css', 'assets'],
      ['GET', '/assets/', 'assets'],
      ['GET', '/assetsx', 'web'],
      ['POST', '/assets/x', undefined],
    ],
  },
  {
    name: 'methods narrow an application; HEAD only where GET is',
    apps: [
      app('writer', '/', ['/*'], ['POST', 'PUT']),
      app('reader', '/', ['/', '/read/*'], ['GET']),
    ],
    cases: [
      ['POST', '/anything', 'writer'],
      ['PUT', '/', 'writer'],
      ['GET', '/read/1', 'reader'],
      ['HEAD', '/read/1', 'reader'],
      ['HEAD', '/anything', undefined],
      ['GET', '/anything', undefined],
      ['DELETE', '/read/1', undefined],
    ],
  },
];

/**
 * The oracle: register the same applications the way @platformatic/gateway does (one fastify
 * plugin per application with its prefix, one route per `proxy.routes` entry) and ask fastify.
 */
async function fastifyAnswer(
  apps: TableApplication[],
  method: string,
  url: string,
): Promise<string | undefined> {
  const fastify = Fastify();
  for (const a of apps) {
    const prefix = (a.prefix ?? a.id).replace(/\/$/, '');
    await fastify.register(
      async (scope) => {
        for (const route of a.routes) {
          scope.route({
            method: [...a.methods],
            url: route,
            handler: async (_request, reply) => reply.header('x-app', a.id).send('ok'),
          });
        }
      },
      { prefix },
    );
  }
  const response = await fastify.inject({ method: method as 'GET', url });
  await fastify.close();
  if (response.statusCode === 404) return undefined;
  return String(response.headers['x-app']);
}

describe('RouteTable', () => {
  for (const scenario of scenarios) {
    describe(scenario.name, () => {
      const table = RouteTable.build(scenario.apps);
      for (const [method, url, application, rest, query] of scenario.cases) {
        it(`${method} ${url} → ${application ?? '404'}`, async () => {
          const match = table.match(method, url);
          expect(match?.application).toBe(application);
          if (rest !== undefined) expect(match?.rest).toBe(rest);
          if (query !== undefined) expect(match?.query).toBe(query);
          // Same answer as fastify's own router, registered the way Platformatic does.
          expect(await fastifyAnswer(scenario.apps, method, url)).toBe(application);
        });
      }
    });
  }

  it('refuses two applications claiming the same method and path, as fastify does', async () => {
    const apps = [app('a', '/', ['/*']), app('b', '/', ['/*'], ['GET'])];
    expect(() => RouteTable.build(apps)).toThrow(RouteConflictError);
    expect(() => RouteTable.build(apps)).toThrow('applications "a" and "b" both claim GET /*');
    await expect(fastifyAnswer(apps, 'GET', '/')).rejects.toThrow(/already declared/);
  });

  it('treats parameters with different names as the same route', () => {
    expect(() =>
      RouteTable.build([app('a', '/', ['/u/:id'], ['GET']), app('b', '/', ['/u/:name'], ['GET'])]),
    ).toThrow('both claim GET /u/:name');
  });

  it('lets two applications share a path when their methods differ', () => {
    const table = RouteTable.build([
      app('r', '/', ['/x'], ['GET']),
      app('w', '/', ['/x'], ['POST']),
    ]);
    expect(table.match('GET', '/x')?.application).toBe('r');
    expect(table.match('POST', '/x')?.application).toBe('w');
  });

  it('leaves out applications with proxy: false', () => {
    const config = GatewayConfigSchema.parse({
      gateway: {
        applications: [
          { id: 'hidden', origin: 'http://h', proxy: false },
          { id: 'web', origin: 'http://w' },
        ],
      },
    });
    expect(tableApplications(config).map((a) => a.id)).toEqual(['web']);
  });

  it('survives a very long URL', () => {
    const table = RouteTable.build(tableApplications(guideConfig));
    expect(table.match('GET', `/${'a/'.repeat(20_000)}`)?.application).toBe('fallback');
  });
});
