import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECRET_ENV } from '../../api/secret-ref.ts';
import { type FixtureUpstream, startFixtureUpstream } from '../support/fixture-upstream.ts';
import { getImage, metricSum } from '../support/fleet.ts';
import { type CliProcess, runCli } from '../support/processes.ts';
import { type RedisServer, startRedis } from '../support/redis-server.ts';
import { makeSampleImages } from '../support/sample-images.ts';

// What the operator's pods do: `next-image optimizer` with a config file that holds no secret,
// and the Redis URL, its password and the purge token in environment variables (there filled
// by secretKeyRef). A real redis-server that requires the password proves it reached ioredis.

const PASSWORD = 'rotated p@ss/word%41';
const TOKEN = 'env-purge-token-0123456789abcdef';
let redis: RedisServer;
let upstream: FixtureUpstream;
let dir: string;
let proc: CliProcess | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'secret-env-'));
  [redis, upstream] = await Promise.all([
    startRedis({ args: ['--requirepass', PASSWORD] }),
    makeSampleImages().then(startFixtureUpstream),
  ]);
});
afterAll(async () => {
  await proc?.stop();
  await Promise.all([redis?.close(), upstream?.close()]);
  await rm(dir, { recursive: true, force: true });
});

describe('an optimizer whose secrets come from its environment', () => {
  it('connects to Redis with the env URL and password, and purges with the env token', async () => {
    const file = join(dir, 'optimizer.json');
    await writeFile(
      file,
      JSON.stringify({
        next: {
          imageOptimizer: {
            fallback: upstream.url,
            storage: { type: 'redis', prefix: 'env-secrets:' },
          },
        },
      }),
    );
    proc = runCli(['optimizer', '--config', file, '--host', '127.0.0.1', '--port', '0'], {
      [SECRET_ENV.storageUrl]: redis.url,
      [SECRET_ENV.storagePassword]: PASSWORD,
      [SECRET_ENV.purgeToken]: TOKEN,
    });
    const [, base = ''] = await proc.waitFor(/"url":"(http:\/\/127\.0\.0\.1:\d+)"/);
    await expect
      .poll(
        async () =>
          metricSum(await (await request(`${base}/metrics`)).body.text(), 'next_image_storage_up'),
        { timeout: 30_000 },
      )
      .toBe(1);

    expect((await getImage(base, '/photo.jpg')).status).toBe(200);
    const admin = new Redis({ host: '127.0.0.1', port: redis.port, password: PASSWORD });
    try {
      await expect.poll(async () => (await admin.keys('env-secrets:*')).length).toBeGreaterThan(0);
    } finally {
      admin.disconnect();
    }

    const purge = (token: string) =>
      request(`${base}/__admin/purge?url=${encodeURIComponent('/photo.jpg')}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });
    const refused = await purge('not-the-token-0123456789');
    await refused.body.dump();
    expect(refused.statusCode).toBe(401);
    const purged = await purge(TOKEN);
    expect(purged.statusCode).toBe(200);
    expect(await purged.body.json()).toMatchObject({ url: '/photo.jpg', purged: 1 });
    expect(proc.stdout() + proc.stderr()).not.toContain(PASSWORD);
  }, 60_000);

  it('refuses to start when a secret is given twice, naming both places', async () => {
    const file = join(dir, 'twice.json');
    await writeFile(
      file,
      JSON.stringify({
        next: { imageOptimizer: { fallback: upstream.url } },
        optimizer: { purgeToken: TOKEN },
      }),
    );
    const twice = runCli(['optimizer', '--config', file], { [SECRET_ENV.purgeToken]: TOKEN });
    expect((await twice.exited()).code).toBe(2);
    expect(twice.stderr()).toContain(
      '$.optimizer.purgeToken is set in the file and in NEXT_IMAGE_PURGE_TOKEN: keep one',
    );
  }, 30_000);
});
