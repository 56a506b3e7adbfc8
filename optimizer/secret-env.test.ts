import { describe, expect, it } from 'vitest';
import { SECRET_ENV } from '../api/secret-ref.ts';
import { resolveOptimizerConfig } from './config.ts';
import { applySecretEnv } from './secret-env.ts';

const TOKEN = 'a-purge-token-of-32-characters!!';
const file = (storage: Record<string, unknown>, optimizer: Record<string, unknown> = {}) => ({
  next: { imageOptimizer: { fallback: 'http://127.0.0.1:3000', storage } },
  optimizer,
});
const urlOf = (raw: unknown, env: Record<string, string>): string => {
  const storage = resolveOptimizerConfig(raw, 'f.json', env).next.imageOptimizer.storage;
  if (storage.type !== 'redis' && storage.type !== 'valkey') throw new Error('not shared storage');
  return storage.url;
};

describe('secrets from the environment', () => {
  it('takes the storage url from NEXT_IMAGE_STORAGE_URL', () => {
    expect(
      urlOf(file({ type: 'valkey' }), { [SECRET_ENV.storageUrl]: 'valkeys://cache:6380/2' }),
    ).toBe('valkeys://cache:6380/2');
  });

  it('puts NEXT_IMAGE_STORAGE_PASSWORD into the url, encoded so the store decodes it back', () => {
    const url = urlOf(file({ type: 'redis', url: 'redis://app@cache:6379' }), {
      [SECRET_ENV.storagePassword]: 'p%4 @:/#',
    });
    const parsed = new URL(url);
    expect(parsed.username).toBe('app');
    expect(decodeURIComponent(parsed.password)).toBe('p%4 @:/#');
    expect(parsed.host).toBe('cache:6379');
  });

  it('combines a url and a password that both come from the environment', () => {
    const url = urlOf(file({ type: 'redis' }), {
      [SECRET_ENV.storageUrl]: 'redis://cache:6379',
      [SECRET_ENV.storagePassword]: 's3cr3t',
    });
    expect(url).toBe('redis://:s3cr3t@cache:6379');
  });

  it('takes the purge token from NEXT_IMAGE_PURGE_TOKEN', () => {
    const config = resolveOptimizerConfig(file({ type: 'memory' }), 'f.json', {
      [SECRET_ENV.purgeToken]: TOKEN,
    });
    expect(config.optimizer.purgeToken).toBe(TOKEN);
  });

  it('ignores other variables and leaves the input untouched', () => {
    const raw = file({ type: 'redis', url: 'redis://cache' });
    const before = JSON.stringify(raw);
    const { config, problems } = applySecretEnv(raw, {
      HOME: '/root',
      [SECRET_ENV.purgeToken]: TOKEN,
    });
    expect(problems).toEqual([]);
    expect(JSON.stringify(raw)).toBe(before);
    expect(config).toMatchObject({ optimizer: { purgeToken: TOKEN } });
  });

  it.each([
    [
      'a url in the file and in the env',
      file({ type: 'redis', url: 'redis://a' }),
      { [SECRET_ENV.storageUrl]: 'redis://b' },
      '$.next.imageOptimizer.storage.url is set in the file and in NEXT_IMAGE_STORAGE_URL: keep one',
    ],
    [
      'a password in the url and in the env',
      file({ type: 'redis', url: 'redis://:a@r' }),
      { [SECRET_ENV.storagePassword]: 'b' },
      'the storage url has a password and NEXT_IMAGE_STORAGE_PASSWORD is set: keep one',
    ],
    [
      'a purge token in the file and in the env',
      file({ type: 'memory' }, { purgeToken: TOKEN }),
      { [SECRET_ENV.purgeToken]: TOKEN },
      '$.optimizer.purgeToken is set in the file and in NEXT_IMAGE_PURGE_TOKEN: keep one',
    ],
    [
      'a storage url for memory storage',
      file({ type: 'memory' }),
      { [SECRET_ENV.storageUrl]: 'redis://b' },
      'NEXT_IMAGE_STORAGE_URL set, but $.next.imageOptimizer.storage.type is not redis or valkey',
    ],
    [
      'a password without any url',
      file({ type: 'redis' }),
      { [SECRET_ENV.storagePassword]: 'b' },
      'NEXT_IMAGE_STORAGE_PASSWORD is set but there is no storage url',
    ],
    [
      'an env url that is not redis',
      file({ type: 'redis' }),
      { [SECRET_ENV.storageUrl]: 'http://b' },
      'NEXT_IMAGE_STORAGE_URL must be a redis://',
    ],
    [
      'a short purge token',
      file({ type: 'memory' }),
      { [SECRET_ENV.purgeToken]: 'short' },
      'purgeToken must be at least 16 characters',
    ],
  ])('refuses %s, saying what to change', (_name, raw, env, message) => {
    expect(() => resolveOptimizerConfig(raw, 'f.json', env)).toThrow(message);
  });

  it('reports every problem at once', () => {
    const raw = file({ type: 'redis', url: 'redis://a' }, { purgeToken: TOKEN });
    expect(
      applySecretEnv(raw, { [SECRET_ENV.storageUrl]: 'redis://b', [SECRET_ENV.purgeToken]: TOKEN })
        .problems,
    ).toHaveLength(2);
  });
});
