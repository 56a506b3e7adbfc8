import { describe, expect, it } from 'vitest';
import { StorageConfigError } from './errors.ts';
import { reconnectDelay, redactedUrl, redisConnectionOptions } from './redis-options.ts';

describe('redisConnectionOptions', () => {
  it.each([
    ['redis://cache:6380', undefined, { host: 'cache', port: 6380, db: 0 }],
    ['redis://cache', undefined, { host: 'cache', port: 6379, db: 0 }],
    ['redis://cache/4', undefined, { host: 'cache', port: 6379, db: 4 }],
    ['redis://cache/4', 2, { host: 'cache', port: 6379, db: 2 }],
    ['valkey://cache:7000/1', undefined, { host: 'cache', port: 7000, db: 1 }],
    ['redis://[::1]:6379', undefined, { host: '::1', port: 6379, db: 0 }],
  ])('maps %s (db %s) to host, port and database', (url, db, expected) => {
    const options = redisConnectionOptions(url, db);
    expect({ host: options.host, port: options.port, db: options.db }).toEqual(expected);
    expect(options.tls).toBeUndefined();
  });

  it.each(['rediss://cache:6380', 'valkeys://cache:6380'])(
    'turns TLS on for %s with SNI',
    (url) => {
      expect(redisConnectionOptions(url).tls).toEqual({ servername: 'cache' });
    },
  );

  it('uses a URL-encoded user and password', () => {
    const options = redisConnectionOptions('redis://app:p%40ss%2Fword@cache:6379');
    expect(options.username).toBe('app');
    expect(options.password).toBe('p@ss/word');
  });

  it('uses a password without a user', () => {
    const options = redisConnectionOptions('rediss://:only-pass@cache');
    expect(options.username).toBeUndefined();
    expect(options.password).toBe('only-pass');
  });

  it.each(['http://cache:6379', 'not a url', 'redis://cache/main'])('rejects %s', (url) => {
    expect(() => redisConnectionOptions(url)).toThrow(StorageConfigError);
  });
});

describe('reconnectDelay', () => {
  it('grows with each attempt and stays under the cap', () => {
    const steady = (): number => 0.5;
    expect(reconnectDelay(1, steady)).toBeLessThan(reconnectDelay(5, steady));
    expect(reconnectDelay(1_000, () => 1)).toBeLessThanOrEqual(6_000);
  });
});

describe('redactedUrl', () => {
  it('hides the password and keeps the rest', () => {
    expect(redactedUrl('redis://app:secret@cache:6379/2')).toBe('redis://app:***@cache:6379/2');
  });
});
