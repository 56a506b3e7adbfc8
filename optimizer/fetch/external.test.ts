import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import zlib from 'node:zlib';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { streamRepeated } from '../../test/support/stream-body.ts';
import { ImageError, isRetryable, MESSAGES } from '../errors.ts';
import { closeFetchAgents, externalAgent } from './agents.ts';
import {
  type ExternalFetchOptions,
  fetchExternalImage,
  upstreamRequestHeaders,
} from './external.ts';
import {
  DnsLookupError,
  errorCode,
  UnsupportedProtocolError,
  UpstreamConnectionError,
} from './fetch-errors.ts';
import {
  type Fixture,
  failure,
  mapLookup,
  PNG,
  socketClosed,
  startFixture,
} from './test-support/fixture-server.ts';

// Every host here resolves (through an injected lookup) to loopback. 127.0.0.1 plays the public
// internet through `isAllowedAddress`; 127.0.0.2 plays a private address the guard must refuse.
const lookupCalls: string[] = [];
const lookup = mapLookup(
  {
    'public.test': ['127.0.0.1'],
    'evil.test': ['127.0.0.1'],
    'private.test': ['127.0.0.2'],
    'multi.test': ['127.0.0.3', '127.0.0.1'],
  },
  lookupCalls,
);
const isAllowedAddress = (address: string): boolean =>
  address === '127.0.0.1' || address === '127.0.0.3';

let fixture: Fixture;
const extra: Fixture[] = [];

beforeEach(async () => {
  lookupCalls.length = 0;
  fixture = await startFixture();
  fixture.route('/img', (_req, res) => {
    res.setHeader('content-type', 'image/png');
    res.setHeader('cache-control', 'public, max-age=3600');
    res.setHeader('etag', 'W/"abc"');
    res.end(PNG);
  });
});

afterEach(async () => {
  await fixture.close();
  await Promise.all(extra.splice(0).map((server) => server.close()));
});

afterAll(async () => {
  await closeFetchAgents();
});

function options(overrides: Partial<ExternalFetchOptions> = {}): ExternalFetchOptions {
  return {
    maximumResponseBody: 1_000_000,
    maximumRedirects: 3,
    dangerouslyAllowLocalIP: false,
    signal: AbortSignal.timeout(20_000),
    lookup,
    isAllowedAddress,
    ...overrides,
  };
}

const src = (path: string, host = 'public.test'): string => `http://${host}:${fixture.port}${path}`;

function redirect(res: ServerResponse, location: string, status = 302): void {
  res.statusCode = status;
  res.setHeader('location', location);
  res.end('moved');
}

describe('fetchExternalImage: request', () => {
  it('sends exactly Next 16 headers over http and returns the upstream metadata', async () => {
    const image = await fetchExternalImage(src('/img'), options());
    expect(image).toEqual({
      buffer: PNG,
      // The body as it arrived (one chunk here), for the transform child: never joined.
      chunks: [PNG],
      head: PNG,
      length: PNG.length,
      contentType: 'image/png',
      cacheControl: 'public, max-age=3600',
      etag: 'W/"abc"',
    });
    const [request] = fixture.requests;
    expect(request?.rawHeaderNames.toSorted()).toEqual([
      'accept',
      'accept-encoding',
      'accept-language',
      'connection',
      'host',
      'sec-fetch-mode',
      'user-agent',
    ]);
    expect(request?.headers).toMatchObject({
      host: `public.test:${fixture.port}`,
      accept: '*/*',
      'accept-language': '*',
      'sec-fetch-mode': 'cors',
      'user-agent': 'node',
      'accept-encoding': 'gzip, deflate',
    });
    expect(request?.headers.cookie).toBeUndefined();
    expect(request?.headers.authorization).toBeUndefined();
  });

  it('keeps the query string and reuses one keep-alive connection', async () => {
    await fetchExternalImage(src('/img?v=1'), options());
    // undici returns the socket to the pool right after the body's last chunk is delivered.
    await new Promise((resolve) => setImmediate(resolve));
    await fetchExternalImage(src('/img?v=2'), options());
    expect(fixture.count('/img')).toBe(2);
    expect(fixture.sockets).toHaveLength(1);
  });

  it('reaches an IPv6 address', async () => {
    const v6 = await startFixture('::1');
    extra.push(v6);
    v6.route('/img', (_req, res) => res.end(PNG));
    const image = await fetchExternalImage(`http://v6.test:${v6.port}/img`, {
      ...options(),
      lookup: mapLookup({ 'v6.test': ['::1'] }),
      isAllowedAddress: (address) => address === '::1',
    });
    expect(image.buffer).toEqual(PNG);
    expect(v6.requests[0]?.headers.host).toBe(`v6.test:${v6.port}`);
  });

  it('tries the next checked address when one refuses the connection', async () => {
    const image = await fetchExternalImage(src('/img', 'multi.test'), options());
    expect(image.buffer).toEqual(PNG);
    expect(fixture.count('/img')).toBe(1);
  });
});

describe('fetchExternalImage: SSRF guard', () => {
  it('refuses a hostname resolving to loopback with 400 before connecting', async () => {
    const error = await failure(
      fetchExternalImage(src('/img', 'evil.test'), { ...options(), isAllowedAddress: undefined }),
    );
    expect(error).toBeInstanceOf(ImageError);
    expect(error).toMatchObject({ statusCode: 400, message: MESSAGES.notAllowed });
    expect(isRetryable(error)).toBe(false);
    expect(fixture.sockets).toHaveLength(0);
  });

  it('fetches the same hostname when dangerouslyAllowLocalIP is set', async () => {
    const image = await fetchExternalImage(src('/img', 'evil.test'), {
      ...options({ dangerouslyAllowLocalIP: true }),
      isAllowedAddress: undefined,
    });
    expect(image.buffer).toEqual(PNG);
  });

  it('re-checks every redirect hop: an allowed host redirecting to a private one is refused', async () => {
    const trap = await startFixture('127.0.0.2');
    extra.push(trap);
    fixture.route('/to-private', (_req, res) =>
      redirect(res, `http://private.test:${trap.port}/img`),
    );
    const error = await failure(fetchExternalImage(src('/to-private'), options()));
    expect(error).toMatchObject({ statusCode: 400, message: MESSAGES.notAllowed });
    expect(trap.sockets).toHaveLength(0);
  });

  it('resolves each hop once and connects to what it checked (no second lookup to rebind)', async () => {
    let calls = 0;
    const rebinding = async (): Promise<{ address: string; family: number }[]> => {
      calls += 1;
      return [{ address: calls === 1 ? '127.0.0.1' : '127.0.0.2', family: 4 }];
    };
    const trap = await startFixture('127.0.0.2');
    extra.push(trap);
    fixture.route('/again', (_req, res) => redirect(res, `http://rebind.test:${fixture.port}/img`));
    const error = await failure(
      fetchExternalImage(`http://rebind.test:${fixture.port}/again`, {
        ...options(),
        lookup: rebinding,
      }),
    );
    expect(fixture.count('/again')).toBe(1);
    expect(calls).toBe(2);
    expect(error).toMatchObject({ statusCode: 400, message: MESSAGES.notAllowed });
    expect(trap.sockets).toHaveLength(0);
  });

  it('answers a DNS failure with a plain DnsLookupError (Next: 500)', async () => {
    const error = await failure(fetchExternalImage(src('/img', 'nowhere.test'), options()));
    expect(error).toBeInstanceOf(DnsLookupError);
    expect(error).not.toBeInstanceOf(ImageError);
  });

  it('never lets the shared agent connect to a name instead of a checked address', async () => {
    const error = await failure(
      externalAgent().request({
        origin: `http://localhost:${fixture.port}`,
        path: '/img',
        method: 'GET',
      }),
    );
    expect(error).toMatchObject({ code: 'UPSTREAM_UNPINNED_CONNECT' });
    expect(fixture.sockets).toHaveLength(0);
  });
});

describe('fetchExternalImage: redirects', () => {
  beforeEach(() => {
    fixture.route('/r1', (_req, res) => redirect(res, '/r2', 301));
    fixture.route('/r2', (_req, res) => redirect(res, '/r3', 307));
    fixture.route('/r3', (_req, res) => redirect(res, src('/img'), 308));
  });

  it('follows maximumRedirects hops (max=2: 2 hops OK)', async () => {
    const image = await fetchExternalImage(src('/r2'), options({ maximumRedirects: 2 }));
    expect(image.buffer).toEqual(PNG);
    expect(lookupCalls).toEqual(['public.test', 'public.test', 'public.test']);
  });

  it('answers one hop more with 508 (max=2: 3 hops)', async () => {
    const error = await failure(fetchExternalImage(src('/r1'), options({ maximumRedirects: 2 })));
    expect(error).toMatchObject({ statusCode: 508, message: MESSAGES.upstreamInvalid });
    expect(isRetryable(error)).toBe(false);
    expect(fixture.count('/img')).toBe(0);
  });

  it('answers any redirect with 508 when maximumRedirects is 0', async () => {
    const error = await failure(fetchExternalImage(src('/r3'), options({ maximumRedirects: 0 })));
    expect(error).toMatchObject({ statusCode: 508 });
  });

  it.each([
    ['img?v=1', '/dir/img'],
    ['../img', '/img'],
    ['/img', '/img'],
  ])('resolves the relative Location %s against the current url', async (location, reached) => {
    fixture.route('/dir/rel', (_req, res) => redirect(res, location, 303));
    fixture.route('/dir/img', (_req, res) => res.end(PNG));
    const image = await fetchExternalImage(src('/dir/rel'), options());
    expect(image.buffer).toEqual(PNG);
    expect(fixture.count(reached)).toBe(1);
  });

  it.each([
    [302, undefined],
    [301, 'http://['],
    [300, '/img'],
    [304, undefined],
  ])('answers %i with Location %j as 500, not followed', async (status, location) => {
    fixture.route('/odd', (_req, res) => {
      res.statusCode = status;
      if (location !== undefined) res.setHeader('location', location);
      res.end();
    });
    const error = await failure(fetchExternalImage(src('/odd'), options()));
    expect(error).toMatchObject({ statusCode: 500, message: MESSAGES.upstreamInvalid });
    expect(isRetryable(error)).toBe(false);
    expect(fixture.count('/img')).toBe(0);
  });

  it('does not follow a redirect to another scheme', async () => {
    fixture.route('/ftp', (_req, res) => redirect(res, 'ftp://public.test/img'));
    const error = await failure(fetchExternalImage(src('/ftp'), options()));
    expect(error).toBeInstanceOf(UnsupportedProtocolError);
  });
});

describe('fetchExternalImage: responses', () => {
  it.each([
    ['gzip', zlib.gzipSync(PNG)],
    ['x-gzip', zlib.gzipSync(PNG)],
    ['deflate', zlib.deflateSync(PNG)],
    ['br', zlib.brotliCompressSync(PNG)],
  ])('decodes a %s body', async (encoding, encoded) => {
    fixture.route('/encoded', (_req, res) => {
      res.setHeader('content-encoding', encoding);
      res.end(encoded);
    });
    const image = await fetchExternalImage(src('/encoded'), options());
    expect(image.buffer).toEqual(PNG);
  });

  it('answers more than 5 content codings with 400', async () => {
    fixture.route('/many', (_req, res) => {
      res.setHeader('content-encoding', 'gzip, gzip, gzip, gzip, gzip, gzip');
      res.end(PNG);
    });
    await expect(fetchExternalImage(src('/many'), options())).rejects.toMatchObject({
      statusCode: 400,
      message: MESSAGES.upstreamInvalid,
    });
  });

  it.each([
    [200, 'an empty 200'],
    [204, 'a 204'],
  ])('answers %i (%s) with 400', async (status) => {
    fixture.route('/empty', (_req, res) => {
      res.statusCode = status;
      res.end();
    });
    const error = await failure(fetchExternalImage(src('/empty'), options()));
    expect(error).toMatchObject({ statusCode: 400, message: MESSAGES.upstreamInvalid });
  });

  it.each([
    [404, 404, false],
    [403, 403, false],
    [410, 410, false],
    [429, 429, true],
    [500, 500, true],
    [502, 502, true],
    [503, 503, true],
  ])('answers upstream %i with %i (retryable: %s)', async (status, expected, retryable) => {
    fixture.route('/status', (_req, res) => {
      res.statusCode = status;
      res.end('nope');
    });
    const error = await failure(fetchExternalImage(src('/status'), options()));
    expect(error).toBeInstanceOf(ImageError);
    expect(error).toMatchObject({ statusCode: expected, message: MESSAGES.upstreamInvalid });
    expect(isRetryable(error)).toBe(retryable);
  });

  it('aborts an over-limit download with 413 and the upstream sees the connection close early', async () => {
    const total = 256 * 1024 * 1024;
    const written = { bytes: 0 };
    fixture.route('/huge', (_req, res) => {
      streamRepeated(res, Buffer.alloc(64 * 1024, 7), total, written);
    });
    const error = await failure(
      fetchExternalImage(src('/huge'), options({ maximumResponseBody: 1024 * 1024 })),
    );
    expect(error).toMatchObject({ statusCode: 413, message: MESSAGES.upstreamInvalid });
    const socket = fixture.requests[0]?.socket;
    expect(socket).toBeDefined();
    if (socket !== undefined) await socketClosed(socket);
    expect(written.bytes).toBeLessThan(total);
  });

  it('answers a declared over-limit length with 413 without reading the body', async () => {
    fixture.route('/declared', (_req, res) => {
      res.setHeader('content-length', '2000000');
      res.write(PNG);
    });
    const error = await failure(
      fetchExternalImage(src('/declared'), options({ maximumResponseBody: 1_000_000 })),
    );
    expect(error).toMatchObject({ statusCode: 413 });
  });

  it('applies the limit to the decoded size (gzip bomb → 413)', async () => {
    const bomb = zlib.gzipSync(Buffer.alloc(32 * 1024 * 1024));
    fixture.route('/bomb', (_req, res) => {
      res.setHeader('content-encoding', 'gzip');
      res.end(bomb);
    });
    const error = await failure(
      fetchExternalImage(src('/bomb'), options({ maximumResponseBody: 1024 * 1024 })),
    );
    expect(error).toMatchObject({ statusCode: 413, message: MESSAGES.upstreamInvalid });
  });
});

describe('fetchExternalImage: failures without a response', () => {
  it('answers a refused connection with a retryable plain error (Next: 500)', async () => {
    const closed = await startFixture();
    await closed.close();
    const error = await failure(
      fetchExternalImage(`http://public.test:${closed.port}/img`, options()),
    );
    expect(error).toBeInstanceOf(UpstreamConnectionError);
    expect(error).not.toBeInstanceOf(ImageError);
    expect(error).toMatchObject({ causeCode: 'ECONNREFUSED' });
    expect(isRetryable(error)).toBe(true);
  });

  it('answers a timeout signal with 504 and closes the upstream connection', async () => {
    fixture.route('/hang', () => {});
    const controller = new AbortController();
    const pending = failure(
      fetchExternalImage(src('/hang'), options({ signal: controller.signal })),
    );
    const request = await fixture.nextRequest('/hang');
    controller.abort(new DOMException('attempt timed out', 'TimeoutError'));
    const error = await pending;
    expect(error).toMatchObject({ statusCode: 504, message: MESSAGES.upstreamTimeout });
    expect(isRetryable(error)).toBe(true);
    await socketClosed(request.socket);
  });

  it('rethrows any other abort reason and closes the upstream connection', async () => {
    fixture.route('/hang', () => {});
    const controller = new AbortController();
    const pending = failure(
      fetchExternalImage(src('/hang'), options({ signal: controller.signal })),
    );
    const request = await fixture.nextRequest('/hang');
    const reason = new Error('job budget spent');
    controller.abort(reason);
    expect(await pending).toBe(reason);
    await socketClosed(request.socket);
  });

  it('closes the connection when aborted in the middle of the body', async () => {
    fixture.route('/trickle', (_req, res) => {
      res.write(PNG);
    });
    const controller = new AbortController();
    const pending = failure(
      fetchExternalImage(src('/trickle'), options({ signal: controller.signal })),
    );
    const request = await fixture.nextRequest('/trickle');
    controller.abort(new Error('stop'));
    await expect(pending).resolves.toMatchObject({ message: 'stop' });
    await socketClosed(request.socket);
  });
});

describe('fetchExternalImage: https', () => {
  it.each([
    ['http://a.test/x.png', 'a.test', 'gzip, deflate'],
    ['https://a.test/x.png', 'a.test', 'br, gzip, deflate'],
    ['https://a.test:8443/x.png', 'a.test:8443', 'br, gzip, deflate'],
    ['http://[2606:4700::1]:8080/', '[2606:4700::1]:8080', 'gzip, deflate'],
  ])('sends Next 16 headers for %s', (href, host, acceptEncoding) => {
    expect(upstreamRequestHeaders(new URL(href))).toEqual({
      host,
      accept: '*/*',
      'accept-language': '*',
      'sec-fetch-mode': 'cors',
      'user-agent': 'node',
      'accept-encoding': acceptEncoding,
    });
  });

  it('connects to the pinned address but handshakes and verifies with the real hostname', async () => {
    const dir = new URL('./test-support/tls/', import.meta.url);
    const key = readFileSync(new URL('public.test.key', dir));
    const cert = readFileSync(new URL('public.test.crt', dir));
    const names: string[] = [];
    const server = tls.createServer({
      key,
      cert,
      SNICallback: (name, callback) => {
        names.push(name);
        callback(null, tls.createSecureContext({ key, cert }));
      },
    });
    server.on('tlsClientError', () => {});
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    try {
      const error = await failure(fetchExternalImage(`https://public.test:${port}/img`, options()));
      expect(names).toEqual(['public.test']);
      // The self-signed certificate is refused: verification ran, against public.test.
      expect(errorCode(error)).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
      expect(error).not.toBeInstanceOf(ImageError);
      expect(isRetryable(error)).toBe(false);
    } finally {
      server.close();
    }
  });
});
