import { describe, expect, it } from 'vitest';
import { rewriteLocation, stripHopByHop, withForwarded } from './headers.ts';

describe('stripHopByHop', () => {
  it('drops hop-by-hop headers and those named in Connection, keeping the rest', () => {
    expect(
      stripHopByHop({
        connection: 'keep-alive, X-Trace',
        'keep-alive': 'timeout=5',
        'transfer-encoding': 'chunked',
        upgrade: 'websocket',
        te: 'trailers',
        trailer: 'x',
        'proxy-authorization': 'Basic x',
        'proxy-authenticate': 'Basic',
        'x-trace': '1',
        'set-cookie': ['a=1', 'b=2'],
        vary: 'Accept',
      }),
    ).toEqual({ 'set-cookie': ['a=1', 'b=2'], vary: 'Accept' });
  });

  it('returns the same object when nothing is hop-by-hop', () => {
    const headers = { etag: '"x"', 'cache-control': 'max-age=60' };
    expect(stripHopByHop(headers)).toBe(headers);
  });
});

describe('withForwarded', () => {
  const hop = { remoteAddress: '10.0.0.9', protocol: 'http', host: 'gw:3042' };

  it("appends the client to x-forwarded-for and sets this hop's proto and host", () => {
    expect(
      withForwarded({ 'x-forwarded-for': '1.2.3.4', 'x-forwarded-proto': 'https' }, hop, false),
    ).toEqual({
      'x-forwarded-for': '1.2.3.4, 10.0.0.9',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': 'gw:3042',
    });
  });

  it('keeps proto and host an ingress set when trusted, and fills them when absent', () => {
    expect(
      withForwarded(
        { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'shop.example' },
        hop,
        true,
      ),
    ).toMatchObject({ 'x-forwarded-proto': 'https', 'x-forwarded-host': 'shop.example' });
    expect(withForwarded({}, hop, true)).toMatchObject({
      'x-forwarded-proto': 'http',
      'x-forwarded-host': 'gw:3042',
    });
  });
});

describe('rewriteLocation', () => {
  const cases: Array<[location: string, basePath: string, prefix: string, expected: string]> = [
    ['/login', '', '/shop', '/shop/login'],
    ['/store/cart', '/store', '/shop', '/shop/cart'],
    ['/login', '', '', '/login'],
    ['https://idp.example/login', '', '/shop', 'https://idp.example/login'],
    ['//cdn.example/x', '', '/shop', '//cdn.example/x'],
  ];
  for (const [location, basePath, prefix, expected] of cases) {
    it(`${location} (base "${basePath}", prefix "${prefix}") → ${expected}`, () => {
      expect(rewriteLocation({ location }, basePath, prefix).location).toBe(expected);
    });
  }
});
