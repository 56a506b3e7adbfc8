import { describe, expect, it } from 'vitest';
import { type GatewayConfigInput, GatewayConfigSchema } from '../api/gateway-config.ts';
import { Discovery, UnknownAppError } from '../lib/discovery.ts';
import { RouteTable, tableApplications } from './route-table.ts';
import { resolveUpstreams, targetUrl } from './upstreams.ts';

function forward(input: GatewayConfigInput, method: string, url: string): string | undefined {
  const config = GatewayConfigSchema.parse(input);
  const upstreams = resolveUpstreams(config, new Discovery(config.discovery));
  const match = RouteTable.build(tableApplications(config)).match(method, url);
  const upstream = match === undefined ? undefined : upstreams.get(match.application);
  return match === undefined || upstream === undefined ? undefined : targetUrl(upstream, match);
}

describe('upstreams', () => {
  const cases: Array<[name: string, config: GatewayConfigInput, url: string, target: string]> = [
    [
      'an id resolves through a static discovery map, base path included',
      {
        gateway: { applications: [{ id: 'web', proxy: { prefix: '/' } }] },
        discovery: { apps: { web: 'http://127.0.0.1:3000/base' } },
      },
      '/a?b=1',
      'http://127.0.0.1:3000/base/a?b=1',
    ],
    [
      'an id resolves to cluster DNS with the configured port',
      {
        gateway: {
          applications: [{ id: 'optimizer', proxy: { prefix: '/', routes: ['/_next/image'] } }],
        },
        discovery: { namespace: 'shop', ports: { optimizer: 3001 } },
      },
      '/_next/image?url=%2Fa.png&w=64&q=75',
      'http://optimizer.shop.svc.cluster.local:3001/_next/image?url=%2Fa.png&w=64&q=75',
    ],
    [
      'origin wins over discovery, and the prefix is stripped',
      {
        gateway: { applications: [{ id: 'api', origin: 'http://api:8080' }] },
        discovery: { apps: { api: 'http://elsewhere:1' } },
      },
      '/api/users',
      'http://api:8080/users',
    ],
    [
      'proxy.upstream wins over origin',
      {
        gateway: {
          applications: [{ id: 'api', origin: 'http://a:1', proxy: { upstream: 'http://b:2' } }],
        },
      },
      '/api/x',
      'http://b:2/x',
    ],
    [
      'the upstream URL path replaces the prefix',
      {
        gateway: {
          applications: [{ id: 'shop', origin: 'http://s:1/store/', proxy: { prefix: '/shop' } }],
        },
      },
      '/shop/cart',
      'http://s:1/store/cart',
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
      '/shop',
      'http://s:1/v2',
    ],
    [
      'an empty rest becomes "/"',
      { gateway: { applications: [{ id: 'api', origin: 'http://api:8080' }] } },
      '/api?x=1',
      'http://api:8080/?x=1',
    ],
  ];
  for (const [name, config, url, target] of cases) {
    it(name, () => {
      expect(forward(config, 'GET', url)).toBe(target);
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
