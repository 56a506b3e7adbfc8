import Fastify, { type FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { PURGE_PATH, purgeHref, purgeRoute, sameToken } from './purge-route.ts';
import { StorageUnavailableError } from './storage/errors.ts';
import { MemoryStore } from './storage/memory.ts';
import { testEntry } from './storage/test-support/entries.ts';

const TOKEN = 'a-purge-token-of-32-characters!!';
const apps: FastifyInstance[] = [];

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

/** An app like the optimizer's (request bodies ignored at the root) with the purge route. */
async function serve(
  store: { purge(href: string): Promise<number> },
  token: string | undefined,
  registry?: Registry,
) {
  const app = Fastify();
  apps.push(app);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => {
    payload.resume();
    done(null);
  });
  await app.register(purgeRoute, { store, token, registry });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return `http://127.0.0.1:${port}`;
}

describe('purgeRoute', () => {
  it('removes every variant of a source url with the right token', async () => {
    const store = new MemoryStore(1 << 20);
    await store.set('w64', testEntry(100), '/img/a.png');
    await store.set('w128', testEntry(100), '/img/a.png');
    await store.set('other', testEntry(100), '/img/b.png');
    const registry = new Registry();
    const base = await serve(store, TOKEN, registry);
    const response = await fetch(`${base}${PURGE_PATH}?url=${encodeURIComponent('/img/a.png')}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ url: '/img/a.png', purged: 2 });
    expect(await store.get('w64')).toBeUndefined();
    expect(await store.get('other')).toBeDefined();
    expect(await registry.metrics()).toContain('next_image_purge_requests_total{result="ok"} 1');
  });

  it('takes the url from a JSON body and normalizes absolute urls as Next.js does', async () => {
    const purged: string[] = [];
    const recorder = {
      purge: async (href: string): Promise<number> => {
        purged.push(href);
        return 0;
      },
    };
    const base = await serve(recorder, TOKEN);
    const response = await fetch(`${base}${PURGE_PATH}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'HTTPS://Cdn.Example.com/a b.png' }),
    });
    expect(response.status).toBe(200);
    expect(purged).toEqual(['https://cdn.example.com/a%20b.png']);
  });

  it.each([
    ['no token', undefined],
    ['a wrong token', 'Bearer not-the-right-token-at-all!!'],
    ['a token with another scheme', `Basic ${TOKEN}`],
  ])('answers 401 to %s', async (_name, authorization) => {
    const registry = new Registry();
    const base = await serve(new MemoryStore(1024), TOKEN, registry);
    const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
    const response = await fetch(`${base}${PURGE_PATH}?url=/a.png`, { method: 'POST', headers });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await registry.metrics()).toContain(
      'next_image_purge_requests_total{result="unauthorized"} 1',
    );
  });

  it('does not exist without a configured token', async () => {
    const base = await serve(new MemoryStore(1024), undefined);
    const response = await fetch(`${base}${PURGE_PATH}?url=/a.png`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(response.status).toBe(404);
  });

  it.each(['', 'relative.png', '//host/a.png', 'ftp://host/a.png'])(
    'answers 400 to url "%s"',
    async (url) => {
      const base = await serve(new MemoryStore(1024), TOKEN);
      const response = await fetch(`${base}${PURGE_PATH}?url=${encodeURIComponent(url)}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { message: string }).message).toMatch(/source url/);
    },
  );

  it('answers 503 with Retry-After when the shared storage is down', async () => {
    const store = {
      purge: async (): Promise<number> => {
        throw new StorageUnavailableError('redis is unreachable');
      },
    };
    const base = await serve(store, TOKEN);
    const response = await fetch(`${base}${PURGE_PATH}?url=/a.png`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
  });
});

describe('purgeHref and sameToken', () => {
  it('keeps relative urls verbatim, query included', () => {
    expect(purgeHref('/a.png?v=1#x')).toBe('/a.png?v=1#x');
  });

  it('compares tokens of any length without throwing', () => {
    expect(sameToken('short', TOKEN)).toBe(false);
    expect(sameToken(TOKEN, TOKEN)).toBe(true);
  });
});
