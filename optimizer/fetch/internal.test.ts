import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Discovery } from '../../lib/discovery.ts';
import { streamRepeated } from '../../test/support/stream-body.ts';
import { ImageError, isRetryable, MESSAGES } from '../errors.ts';
import { closeFetchAgents } from './agents.ts';
import {
  fetchInternalImage,
  type InternalFetchOptions,
  internalUrl,
  redirectedByNextRouter,
} from './internal.ts';
import {
  type Fixture,
  failure,
  PNG,
  socketClosed,
  startFixture,
} from './test-support/fixture-server.ts';

const FALLBACK = new URL('http://frontend.plt.local');

let fixture: Fixture;
let discovery: Discovery;

beforeEach(async () => {
  fixture = await startFixture();
  discovery = new Discovery({ apps: { frontend: fixture.url } });
  fixture.route('/img.png', (_req, res) => {
    res.setHeader('content-type', 'image/png');
    res.setHeader('cache-control', 'public, max-age=60');
    res.end(PNG);
  });
});

afterEach(async () => {
  await fixture.close();
});

afterAll(async () => {
  await closeFetchAgents();
});

function options(overrides: Partial<InternalFetchOptions> = {}): InternalFetchOptions {
  return {
    fallback: FALLBACK,
    discovery,
    maximumResponseBody: 1_000_000,
    signal: AbortSignal.timeout(20_000),
    ...overrides,
  };
}

describe('internalUrl', () => {
  it.each([
    [
      'http://frontend.plt.local',
      '/a.png?v=1',
      { frontend: 'http://10.0.0.5:3000' },
      'http://10.0.0.5:3000/a.png?v=1',
    ],
    [
      'http://frontend.plt.local/',
      '/a.png',
      { frontend: 'http://web:3000/base/' },
      'http://web:3000/base/a.png',
    ],
    ['http://127.0.0.1:3000/prefix/', '/a.png?x', {}, 'http://127.0.0.1:3000/prefix/a.png?x'],
    [
      'https://cdn.example.com',
      '/_next/static/media/a.png',
      {},
      'https://cdn.example.com/_next/static/media/a.png',
    ],
  ])('%s + %s → %s', (fallback, href, apps, expected) => {
    // Pure: builds the URL only, nothing is fetched.
    expect(internalUrl(href, new URL(fallback), new Discovery({ apps })).href).toBe(expected);
  });
});

describe('redirectedByNextRouter', () => {
  it.each([
    ['/a.png', false],
    ['/a/b/c.png', false],
    ['/\\x/a.png', true],
    ['/a\\b.png', true],
    ['/a//b.png', true],
    ['/a.png/', false],
    ['/a%5Cb.png', false],
    ['/a%2F%2Fb.png', false],
    // Only the path counts, as in Next's router: a query may hold anything.
    ['/a.png?next=//x', false],
    ['/a.png?x=\\y', false],
  ])('%s → %s', (href, expected) => {
    expect(redirectedByNextRouter(href)).toBe(expected);
  });
});

describe('fetchInternalImage', () => {
  it.each(['/\\x/allowed/a.png', '/allowed//a.png', '/allowed\\a.png'])(
    'refuses %s as Next does (its router redirects it): 500, never asking the fallback',
    async (href) => {
      const error = await failure(fetchInternalImage(href, options()));
      expect(error).toBeInstanceOf(ImageError);
      expect(error).toMatchObject({
        statusCode: 500,
        message: MESSAGES.internalInvalid,
        code: 'INTERNAL_UNNORMALIZED_PATH',
      });
      expect(isRetryable(error)).toBe(false);
      expect(fixture.requests).toHaveLength(0);
    },
  );

  it('GETs fallback + href through discovery and returns the upstream metadata', async () => {
    const image = await fetchInternalImage('/img.png?v=1', options());
    expect(image).toEqual({
      buffer: PNG,
      // The body as it arrived (one chunk here), for the transform child: never joined.
      chunks: [PNG],
      head: PNG,
      length: PNG.length,
      contentType: 'image/png',
      cacheControl: 'public, max-age=60',
      etag: null,
    });
    expect(fixture.requests[0]?.path).toBe('/img.png');
  });

  it('sends no client header: no cookie, no authorization, nothing but host and connection', async () => {
    await fetchInternalImage('/img.png', options());
    const [request] = fixture.requests;
    expect(request?.rawHeaderNames.toSorted()).toEqual(['connection', 'host']);
    expect(request?.headers.cookie).toBeUndefined();
    expect(request?.headers.authorization).toBeUndefined();
  });

  it('accepts an absolute http fallback with a path prefix', async () => {
    fixture.route('/base/img.png', (_req, res) => res.end(PNG));
    const image = await fetchInternalImage(
      '/img.png',
      options({ fallback: new URL(`${fixture.url}/base/`) }),
    );
    expect(image.buffer).toEqual(PNG);
  });

  it.each([
    [404, 404, false],
    [401, 401, false],
    [429, 429, true],
    [500, 500, true],
    [503, 503, true],
  ])(
    'answers %i with %i "internal response is invalid" (retryable: %s)',
    async (status, expected, retryable) => {
      fixture.route('/status', (_req, res) => {
        res.statusCode = status;
        res.end('page');
      });
      const error = await failure(fetchInternalImage('/status', options()));
      expect(error).toBeInstanceOf(ImageError);
      expect(error).toMatchObject({ statusCode: expected, message: MESSAGES.internalInvalid });
      expect(isRetryable(error)).toBe(retryable);
    },
  );

  it('does not follow a redirect: 3xx → 500', async () => {
    fixture.route('/moved', (_req, res) => {
      res.statusCode = 307;
      res.setHeader('location', '/img.png');
      res.end();
    });
    const error = await failure(fetchInternalImage('/moved', options()));
    expect(error).toMatchObject({ statusCode: 500, message: MESSAGES.internalInvalid });
    expect(fixture.count('/img.png')).toBe(0);
  });

  it.each([200, 204])('answers an empty %i with 400', async (status) => {
    fixture.route('/empty', (_req, res) => {
      res.statusCode = status;
      res.end();
    });
    await expect(fetchInternalImage('/empty', options())).rejects.toMatchObject({
      statusCode: 400,
      message: MESSAGES.internalInvalid,
    });
  });

  it('answers a body over maximumResponseBody with 413 and closes the connection (CVE-2026-44577)', async () => {
    const written = { bytes: 0 };
    const total = 256 * 1024 * 1024;
    fixture.route('/huge', (_req, res) => {
      streamRepeated(res, Buffer.alloc(64 * 1024, 1), total, written);
    });
    const error = await failure(
      fetchInternalImage('/huge', options({ maximumResponseBody: 512 * 1024 })),
    );
    expect(error).toMatchObject({ statusCode: 413, message: MESSAGES.internalInvalid });
    const socket = fixture.requests[0]?.socket;
    if (socket !== undefined) await socketClosed(socket);
    expect(written.bytes).toBeLessThan(total);
  });

  it('answers a refused connection with a retryable 500 "upstream response is invalid"', async () => {
    const closed = await startFixture();
    await closed.close();
    const error = await failure(
      fetchInternalImage(
        '/img.png',
        options({ discovery: new Discovery({ apps: { frontend: closed.url } }) }),
      ),
    );
    expect(error).toMatchObject({ statusCode: 500, message: MESSAGES.upstreamInvalid });
    expect(isRetryable(error)).toBe(true);
  });

  it('answers an application unknown to discovery with a non-retryable 500 carrying the cause', async () => {
    const error = await failure(
      fetchInternalImage('/img.png', options({ fallback: new URL('http://other.plt.local') })),
    );
    expect(error).toMatchObject({
      statusCode: 500,
      code: 'UNKNOWN_APP',
      message: MESSAGES.upstreamInvalid,
    });
    expect((error as Error).cause).toMatchObject({ code: 'UNKNOWN_APP', app: 'other' });
    expect(isRetryable(error)).toBe(false);
  });

  it('answers a timeout signal with 504 and closes the connection', async () => {
    fixture.route('/hang', () => {});
    const controller = new AbortController();
    const pending = failure(fetchInternalImage('/hang', options({ signal: controller.signal })));
    const request = await fixture.nextRequest('/hang');
    controller.abort(new DOMException('attempt timed out', 'TimeoutError'));
    expect(await pending).toMatchObject({ statusCode: 504, message: MESSAGES.upstreamTimeout });
    await socketClosed(request.socket);
  });
});
