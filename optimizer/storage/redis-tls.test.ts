import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../test/support/free-port.ts';
import { type RedisServer, startRedis } from '../../test/support/redis-server.ts';

const run = promisify(execFile);
const support = (file: string): string =>
  fileURLToPath(new URL(`./test-support/${file}`, import.meta.url));
const CERT = support('tls/localhost.crt');
let redis: RedisServer;
let tlsPort: number;

beforeAll(async () => {
  tlsPort = await freePort();
  // TLS only: the plain port is turned off, so a client that skipped TLS could not connect.
  redis = await startRedis({
    args: [
      '--port',
      '0',
      '--tls-port',
      String(tlsPort),
      '--tls-cert-file',
      CERT,
      '--tls-key-file',
      support('tls/localhost.key'),
      '--tls-ca-cert-file',
      CERT,
      '--tls-auth-clients',
      'no',
    ],
  });
});

afterAll(async () => {
  await redis.close();
});

describe('RedisStore over TLS', () => {
  it.each(['rediss', 'valkeys'])('stores and reads entries through a %s:// URL', async (scheme) => {
    const { stdout } = await run(
      process.execPath,
      [support('tls-client.ts'), `${scheme}://localhost:${tlsPort}`],
      {
        env: { ...process.env, NODE_EXTRA_CA_CERTS: CERT },
        timeout: 20_000,
      },
    );
    expect(JSON.parse(stdout)).toEqual({ state: 'ok', roundTrip: true });
  });

  it('refuses a server whose certificate it cannot verify, and stays degraded', async () => {
    const { stdout } = await run(
      process.execPath,
      [support('tls-client.ts'), `rediss://localhost:${tlsPort}`, '2000'],
      {
        env: { ...process.env, NODE_EXTRA_CA_CERTS: '' },
        timeout: 30_000,
      },
    );
    expect(JSON.parse(stdout)).toEqual({ state: 'degraded', roundTrip: false });
  });
});
