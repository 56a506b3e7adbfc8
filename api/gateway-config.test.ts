import { describe, expect, it } from 'vitest';
import { configProblems } from '../test/support/config-problems.ts';
import { GATEWAY_DEFAULTS, GatewayConfigSchema } from './gateway-config.ts';

const guide = {
  $schema: 'https://schemas.platformatic.dev/@platformatic/gateway/3.0.0.json',
  gateway: {
    applications: [
      { id: 'optimizer', proxy: { prefix: '/', routes: ['/_next/image'], methods: ['GET'] } },
      { id: 'fallback', proxy: { prefix: '/', routes: ['/*'] } },
    ],
  },
  discovery: { apps: { optimizer: 'http://127.0.0.1:3001', fallback: 'http://127.0.0.1:3000' } },
};

const problems = (raw: unknown): string[] => configProblems(GatewayConfigSchema, raw);

describe('GatewayConfigSchema', () => {
  it("accepts the guide's gateway watt.json plus discovery and fills Platformatic's defaults", () => {
    const config = GatewayConfigSchema.parse(guide);
    const [optimizer, fallback] = config.gateway.applications;
    expect(optimizer?.proxy).toEqual({ prefix: '/', routes: ['/_next/image'], methods: ['GET'] });
    expect(fallback?.proxy).toEqual({
      prefix: '/',
      routes: ['/*'],
      methods: ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'],
    });
    expect(config.admin.port).toBe(GATEWAY_DEFAULTS.adminPort);
    expect(config.upstream.timeout).toBe(GATEWAY_DEFAULTS.timeout);
  });

  it('accepts server.hostname and server.port (also as a digit string)', () => {
    const config = GatewayConfigSchema.parse({
      ...guide,
      server: { hostname: '0.0.0.0', port: '8080' },
    });
    expect(config.server).toEqual({ hostname: '0.0.0.0', port: 8080 });
  });

  it('accepts an application with an origin and no discovery', () => {
    expect(
      problems({ gateway: { applications: [{ id: 'web', origin: 'http://web:3000' }] } }),
    ).toEqual([]);
  });

  it('reports unknown keys with their JSON path', () => {
    const list = problems({
      gatway: {},
      gateway: {
        applications: [{ id: 'a', origin: 'http://a', proxy: { prefix: '/', rotes: ['/*'] } }],
      },
    });
    expect(list).toContain('$.gatway: unknown key (check the spelling)');
    expect(list).toContain(
      '$.gateway.applications[0].proxy.rotes: unknown key (check the spelling)',
    );
  });

  it('says HEAD is implied by GET', () => {
    const list = problems({
      gateway: { applications: [{ id: 'a', origin: 'http://a', proxy: { methods: ['HEAD'] } }] },
    });
    expect(list).toEqual([
      '$.gateway.applications[0].proxy.methods[0]: HEAD is implied by GET: list "GET" instead',
    ]);
  });

  it('rejects lowercase methods and misplaced wildcards', () => {
    const list = problems({
      gateway: {
        applications: [
          { id: 'a', origin: 'http://a', proxy: { methods: ['get'], routes: ['/*/x', 'x'] } },
        ],
      },
    });
    expect(list).toHaveLength(3);
    const text = list.join('\n');
    expect(text).toMatch(/methods\[0\]: a method must be one of "GET"/);
    expect(text).toMatch(/routes\[0\]: a "\*" wildcard may only be the last character/);
    expect(text).toMatch(/routes\[1\]: a route must start with "\/"/);
  });

  it('keeps prefixes plain', () => {
    const list = problems({
      gateway: { applications: [{ id: 'a', origin: 'http://a', proxy: { prefix: '/t/:tenant' } }] },
    });
    expect(list).toEqual([
      '$.gateway.applications[0].proxy.prefix: prefix is a plain path such as "/shop" (no parameters, wildcards, "?" or "#")',
    ]);
  });

  it('requires an origin or a discovery entry for every proxied application', () => {
    expect(problems({ gateway: { applications: [{ id: 'web' }] } })).toEqual([
      '$.gateway.applications[0]: application "web" has no origin: give it "origin": "http://host:port" or add discovery ({"apps": {"web": "http://host:port"}} or {"namespace": "<ns>"})',
    ]);
    expect(
      problems({ ...guide, discovery: { apps: { optimizer: 'http://127.0.0.1:1' } } }),
    ).toEqual([
      '$.discovery.apps: no entry for application "fallback": add "fallback": "http://host:port" (or give the application an origin)',
    ]);
    expect(problems({ ...guide, discovery: { namespace: 'shop' } })).toEqual([]);
  });

  it('rejects duplicate application ids', () => {
    const list = problems({
      gateway: {
        applications: [
          { id: 'a', origin: 'http://a' },
          { id: 'a', origin: 'http://b' },
        ],
      },
    });
    expect(list).toEqual([
      '$.gateway.applications[1].id: duplicate application id "a": each id must appear once',
    ]);
  });
});
