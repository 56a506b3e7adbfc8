import { describe, expect, it } from 'vitest';
import { type GatewayConfigInput, GatewayConfigSchema } from '../api/gateway-config.ts';
import { Discovery, UnknownAppError } from '../lib/discovery.ts';
import { resolveUpstreams } from './upstreams.ts';

/** Origin + base path of the config's only application: where its prefix is replaced. */
function forward(input: GatewayConfigInput): string | undefined {
  const config = GatewayConfigSchema.parse(input);
  const [upstream] = resolveUpstreams(config, new Discovery(config.discovery)).values();
  return upstream === undefined ? undefined : `${upstream.origin} ${upstream.basePath}`;
}

describe('upstreams', () => {
  // The path below the prefix is fastify's and http-proxy's business (proxy/app.test.ts).
  const cases: Array<[name: string, config: GatewayConfigInput, target: string]> = [
    [
      'an id resolves through a static discovery map, base path included',
      {
        gateway: { applications: [{ id: 'web', proxy: { prefix: '/' } }] },
        discovery: { apps: { web: 'http://127.0.0.1:3000/base' } },
      },
      'http://127.0.0.1:3000 /base',
    ],
    [
      'an id resolves to cluster DNS with the configured port',
      {
        gateway: {
          applications: [{ id: 'optimizer', proxy: { prefix: '/', routes: ['/_next/image'] } }],
        },
        discovery: { namespace: 'shop', ports: { optimizer: 3001 } },
      },
      'http://optimizer.shop.svc.cluster.local:3001 ',
    ],
    [
      'origin wins over discovery',
      {
        gateway: { applications: [{ id: 'api', origin: 'http://api:8080' }] },
        discovery: { apps: { api: 'http://elsewhere:1' } },
      },
      'http://api:8080 ',
    ],
    [
      'proxy.upstream wins over origin',
      {
        gateway: {
          applications: [{ id: 'api', origin: 'http://a:1', proxy: { upstream: 'http://b:2' } }],
        },
      },
      'http://b:2 ',
    ],
    [
      'the upstream URL path replaces the prefix',
      {
        gateway: {
          applications: [{ id: 'shop', origin: 'http://s:1/store/', proxy: { prefix: '/shop' } }],
        },
      },
      'http://s:1 /store',
    ],
    [
      'rewritePrefix replaces the prefix',
      {
        gateway: {
          applications: [
            { id: 'shop', origin: 'http://s:1', proxy: { prefix: '/shop', rewritePrefix: '/v2' } },
          ],
        },
      },
      'http://s:1 /v2',
    ],
  ];
  for (const [name, config, target] of cases) {
    it(name, () => {
      expect(forward(config)).toBe(target);
    });
  }

  it('names an application discovery does not know', () => {
    const config = GatewayConfigSchema.parse({
      gateway: { applications: [{ id: 'web', proxy: { prefix: '/' } }] },
      discovery: { namespace: 'shop' },
    });
    expect(() => resolveUpstreams(config, new Discovery(undefined))).toThrow(UnknownAppError);
  });
});
