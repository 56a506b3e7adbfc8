import type { V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { SECRET_ENV } from '../api/secret-ref.ts';
import { OPERATOR_RULES } from './rbac.ts';
import type { SecretUse } from './render/secret-refs.ts';
import { resolveSecrets, type SecretLookup } from './secrets.ts';
import { computeStatus, type Observed } from './status.ts';

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const secret = (name: string, data: Record<string, string>, uid = `uid-${name}`): V1Secret => ({
  metadata: { name, namespace: 'web', uid },
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
});
const lookupOf =
  (...secrets: V1Secret[]): SecretLookup =>
  (ns, name) =>
    secrets.find((s) => s.metadata?.namespace === ns && s.metadata?.name === name);

const URL_USE: SecretUse = {
  field: 'spec.imageOptimizer.storage.urlSecretRef',
  env: SECRET_ENV.storageUrl,
  ref: { name: 'redis-creds', key: 'url' },
};
const PASSWORD_USE: SecretUse = {
  field: 'spec.imageOptimizer.storage.passwordSecretRef',
  env: SECRET_ENV.storagePassword,
  ref: { name: 'redis-creds', key: 'password' },
};
const TOKEN_USE: SecretUse = {
  field: 'spec.optimizer.purgeTokenSecretRef',
  env: SECRET_ENV.purgeToken,
  ref: { name: 'purge', key: 'token' },
};
const TOKEN = 'a-purge-token-of-32-characters!!';

const hashOf = (uses: SecretUse[], ...secrets: V1Secret[]): string | undefined => {
  const result = resolveSecrets('web', uses, lookupOf(...secrets));
  if ('failure' in result) throw new Error(result.failure.message);
  return result.hash;
};

describe('resolveSecrets', () => {
  it('has no hash when nothing is referenced', () => {
    expect(resolveSecrets('web', [], lookupOf())).toEqual({ hash: undefined });
  });

  it('reports a missing Secret by namespace, name and field', () => {
    expect(resolveSecrets('web', [URL_USE], lookupOf())).toEqual({
      failure: {
        reason: 'SecretNotFound',
        message: expect.stringMatching(
          /^Secret web\/redis-creds \(spec\.imageOptimizer\.storage\.urlSecretRef\) does not exist/,
        ),
      },
    });
  });

  it('reports a missing key, with the keys the Secret has (never their values)', () => {
    const result = resolveSecrets(
      'web',
      [PASSWORD_USE],
      lookupOf(secret('redis-creds', { pass: 'hunter2', url: 'redis://r' })),
    );
    expect(result).toEqual({
      failure: {
        reason: 'SecretKeyNotFound',
        message: expect.stringContaining('Secret web/redis-creds has no key "password"'),
      },
    });
    if ('failure' in result) {
      expect(result.failure.message).toContain('its keys: pass, url');
      expect(result.failure.message).not.toContain('hunter2');
    }
  });

  it.each([
    ['a url that is not redis', [URL_USE], { url: 'http://r' }, 'is not a redis://'],
    [
      'a url with a password beside passwordSecretRef',
      [URL_USE, PASSWORD_USE],
      { url: 'redis://:x@r', password: 'y' },
      'keep one',
    ],
    ['an empty password', [URL_USE, PASSWORD_USE], { url: 'redis://r', password: '' }, 'is empty'],
  ])('refuses %s (SecretValueInvalid)', (_name, uses, data, message) => {
    const result = resolveSecrets('web', uses, lookupOf(secret('redis-creds', data)));
    expect(result).toMatchObject({ failure: { reason: 'SecretValueInvalid' } });
    if ('failure' in result) expect(result.failure.message).toContain(message);
  });

  it('refuses a purge token shorter than 16 characters', () => {
    const result = resolveSecrets(
      'web',
      [TOKEN_USE],
      lookupOf(secret('purge', { token: 'short' })),
    );
    expect(result).toMatchObject({ failure: { reason: 'SecretValueInvalid' } });
  });

  it('changes the hash when a referenced value changes, and only then', () => {
    const uses = [URL_USE, TOKEN_USE];
    const before = hashOf(
      uses,
      secret('redis-creds', { url: 'redis://a' }),
      secret('purge', { token: TOKEN }),
    );
    expect(before).toMatch(/^[0-9a-f]{16}$/);
    const same = hashOf(
      uses,
      secret('redis-creds', { url: 'redis://a', other: 'x' }),
      secret('purge', { token: TOKEN }),
    );
    expect(same).toBe(before);
    expect(
      hashOf(uses, secret('redis-creds', { url: 'redis://b' }), secret('purge', { token: TOKEN })),
    ).not.toBe(before);
    expect(
      hashOf(
        uses,
        secret('redis-creds', { url: 'redis://a' }),
        secret('purge', { token: `${TOKEN}x` }),
      ),
    ).not.toBe(before);
  });

  it('keys the hash with the Secret uid, so equal values in another Secret give another hash', () => {
    const a = hashOf([TOKEN_USE], secret('purge', { token: TOKEN }, 'uid-a'));
    const b = hashOf([TOKEN_USE], secret('purge', { token: TOKEN }, 'uid-b'));
    expect(a).not.toBe(b);
  });
});

describe('computeStatus with warnings', () => {
  const observed: Observed = {
    generation: 1,
    valkeyWanted: false,
    gatewayDnsAddress: 'http://shop-gateway.web.svc.cluster.local',
    storage: 'redis',
    selector: 'x=y',
  };
  const now = new Date('2026-01-01T00:00:00Z');

  it('adds each warning to the Ready message and changes nothing else', () => {
    const plain = computeStatus(observed, undefined, now);
    const warned = computeStatus(
      { ...observed, warnings: ['url carries a password'] },
      undefined,
      now,
    );
    const ready = warned.conditions?.find((c) => c.type === 'Ready');
    expect(ready?.message).toMatch(/; warning: url carries a password$/);
    expect(ready?.status).toBe(plain.conditions?.find((c) => c.type === 'Ready')?.status);
    expect(warned.conditions?.filter((c) => c.type !== 'Ready')).toEqual(
      plain.conditions?.filter((c) => c.type !== 'Ready'),
    );
  });
});

describe('RBAC for referenced Secrets', () => {
  it('lets the operator get, list and watch Secrets (the chart renders these rules)', () => {
    const verbs = OPERATOR_RULES.filter(
      (r) => r.apiGroups.includes('') && r.resources.includes('secrets'),
    ).flatMap((r) => r.verbs);
    expect(verbs).toEqual(expect.arrayContaining(['get', 'list', 'watch']));
  });
});
