import { describe, expect, it } from 'vitest';
import { type GatewayConfigInput, GatewayConfigSchema } from '../api/gateway-config.ts';
import { RouteConflictError } from './errors.ts';
import { proxiedApplications } from './routes.ts';
import { checkGatewayRoutes } from './server.ts';

type App = NonNullable<GatewayConfigInput['gateway']['applications']>[number];
const config = (...applications: App[]) =>
  GatewayConfigSchema.parse({
    gateway: {
      applications: applications.map((a) => ({ origin: 'http://127.0.0.1:1', ...a })),
    },
  });

describe('gateway routes', () => {
  it('refuses two applications claiming the same method and path, naming both', async () => {
    const both = config(
      { id: 'a', proxy: { prefix: '/', routes: ['/*'] } },
      { id: 'b', proxy: { prefix: '/', routes: ['/*'], methods: ['GET'] } },
    );
    await expect(checkGatewayRoutes(both)).rejects.toThrow(RouteConflictError);
    await expect(checkGatewayRoutes(both)).rejects.toThrow(
      'applications "a" and "b" both claim GET /*',
    );
  });

  it('treats parameters with different names as the same path, as find-my-way does', async () => {
    const both = config(
      { id: 'a', proxy: { prefix: '/', routes: ['/u/:id'], methods: ['GET'] } },
      { id: 'b', proxy: { prefix: '/', routes: ['/u/:name'], methods: ['GET'] } },
    );
    await expect(checkGatewayRoutes(both)).rejects.toThrow('both claim GET /u/:name');
  });

  it('lets two applications share a path when their methods differ', async () => {
    await expect(
      checkGatewayRoutes(
        config(
          { id: 'r', proxy: { prefix: '/', routes: ['/x'], methods: ['GET'] } },
          { id: 'w', proxy: { prefix: '/', routes: ['/x'], methods: ['POST'] } },
        ),
      ),
    ).resolves.toBeUndefined();
  });

  it("mounts an application without prefix at /<id> and drops one trailing '/', as Platformatic does", () => {
    const apps = proxiedApplications(
      config(
        { id: 'api' },
        { id: 'shop', proxy: { prefix: '/shop/' } },
        { id: 'web', proxy: { prefix: '/' } },
        { id: 'hidden', proxy: false },
      ),
    );
    expect(apps.map((a) => [a.id, a.prefix])).toEqual([
      ['api', 'api'],
      ['shop', '/shop'],
      ['web', ''],
    ]);
  });
});
