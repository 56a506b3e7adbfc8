import { describe, expect, it } from 'vitest';
import { ImageError, MESSAGES } from '../errors.ts';
import { bareHostname, guardHost, resolveHost } from './dns-guard.ts';
import { DnsLookupError } from './fetch-errors.ts';
import { mapLookup } from './test-support/fixture-server.ts';

// No DNS and no sockets: every name goes through an injected lookup.
const lookup = mapLookup({
  'public.test': ['8.8.8.8', '2606:4700:4700::1111'],
  'evil.test': ['127.0.0.1'],
  'metadata.test': ['169.254.169.254'],
  'mixed.test': ['8.8.8.8', '10.0.0.1'],
  'mapped.test': ['::ffff:10.1.2.3'],
  'ula.test': ['fd00::1'],
  'empty.test': [],
});

async function refusal(hostname: string, dangerouslyAllowLocalIP = false): Promise<unknown> {
  return guardHost(hostname, { dangerouslyAllowLocalIP, lookup }).then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('guardHost', () => {
  it('returns every address of a public host', async () => {
    const addresses = await guardHost('public.test', { dangerouslyAllowLocalIP: false, lookup });
    expect(addresses).toEqual([
      { address: '8.8.8.8', family: 4 },
      { address: '2606:4700:4700::1111', family: 6 },
    ]);
  });

  it.each([
    ['evil.test', 'a name resolving to loopback'],
    ['metadata.test', 'a name resolving to the metadata address'],
    ['mixed.test', 'a name with one private address among public ones'],
    ['mapped.test', 'a name resolving to IPv4-mapped private'],
    ['ula.test', 'a name resolving to a unique-local address'],
    ['127.0.0.1', 'an IPv4 loopback literal'],
    ['10.1.2.3', 'a private literal'],
    ['169.254.169.254', 'the metadata literal'],
    ['[::1]', 'a bracketed IPv6 loopback literal'],
    ['[fd00::1]', 'a bracketed ULA literal'],
    ['0.0.0.0', 'the unspecified address'],
  ])('refuses %s (%s) with 400 "url" parameter is not allowed', async (hostname) => {
    const error = await refusal(hostname);
    expect(error).toBeInstanceOf(ImageError);
    expect(error).toMatchObject({
      statusCode: 400,
      message: MESSAGES.notAllowed,
      code: 'UPSTREAM_NOT_ALLOWED',
    });
  });

  it('resolves but does not judge when dangerouslyAllowLocalIP is set', async () => {
    await expect(
      guardHost('evil.test', { dangerouslyAllowLocalIP: true, lookup }),
    ).resolves.toEqual([{ address: '127.0.0.1', family: 4 }]);
  });

  it('uses an injected address policy', async () => {
    const isAllowedAddress = (address: string): boolean => address === '127.0.0.1';
    await expect(
      guardHost('evil.test', { dangerouslyAllowLocalIP: false, lookup, isAllowedAddress }),
    ).resolves.toEqual([{ address: '127.0.0.1', family: 4 }]);
    await expect(
      guardHost('metadata.test', { dangerouslyAllowLocalIP: false, lookup, isAllowedAddress }),
    ).rejects.toMatchObject({ statusCode: 400 });
  });

  it('does not consult the resolver for IP literals', async () => {
    const calls: string[] = [];
    const addresses = await guardHost('[2606:4700:4700::1111]', {
      dangerouslyAllowLocalIP: false,
      lookup: mapLookup({}, calls),
    });
    expect(addresses).toEqual([{ address: '2606:4700:4700::1111', family: 6 }]);
    expect(calls).toEqual([]);
  });
});

describe('resolveHost', () => {
  it('turns a DNS failure into a plain DnsLookupError, not an ImageError (Next answers 500)', async () => {
    const error = await resolveHost('nowhere.test', lookup).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DnsLookupError);
    expect(error).not.toBeInstanceOf(ImageError);
    expect(error).toMatchObject({
      code: 'DNS_LOOKUP_FAILED',
      hostname: 'nowhere.test',
      retryable: false,
    });
  });

  it('marks a temporary resolver failure (EAI_AGAIN) retryable', async () => {
    const flaky = async (): Promise<never> => {
      throw Object.assign(new Error('getaddrinfo EAI_AGAIN'), { code: 'EAI_AGAIN' });
    };
    await expect(resolveHost('flaky.test', flaky)).rejects.toMatchObject({ retryable: true });
  });

  it('treats an empty answer as a lookup failure', async () => {
    await expect(resolveHost('empty.test', lookup)).rejects.toBeInstanceOf(DnsLookupError);
  });

  it('stops waiting for a resolver that hangs when the signal aborts', async () => {
    const controller = new AbortController();
    const reason = new Error('budget spent');
    const pending = resolveHost('slow.test', () => new Promise(() => {}), controller.signal);
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });

  it('strips IPv6 brackets', () => {
    expect(bareHostname('[::1]')).toBe('::1');
    expect(bareHostname('example.com')).toBe('example.com');
  });
});
