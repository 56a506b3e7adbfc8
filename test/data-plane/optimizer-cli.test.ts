import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FixtureUpstream, startFixtureUpstream } from '../support/fixture-upstream.ts';
import { type CliProcess, runCli } from '../support/processes.ts';
import { makeSampleImages } from '../support/sample-images.ts';

let dir: string;
let upstream: FixtureUpstream;
const started: CliProcess[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'optimizer-cli-'));
  upstream = await startFixtureUpstream(await makeSampleImages());
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.stop()));
});
afterAll(async () => {
  await upstream.close();
  await rm(dir, { recursive: true, force: true });
});

async function configFile(config: unknown): Promise<string> {
  const file = join(dir, `${Math.random().toString(36).slice(2)}.json`);
  await writeFile(file, JSON.stringify(config));
  return file;
}

describe('next-image optimizer', () => {
  it('stops start-up listing every problem of a bad config, with exit code 2', async () => {
    const file = await configFile({
      next: {
        imageOptimizer: { fallback: 'frontend', maxAttempts: 0 },
        images: { qualities: [0], formatz: [] },
      },
    });
    const proc = runCli(['optimizer', '--config', file]);
    started.push(proc);
    const { code } = await proc.exited();
    expect(code).toBe(2);
    const err = proc.stderr();
    expect(err).toContain('$.next.imageOptimizer.maxAttempts');
    expect(err).toContain('$.next.images.qualities[0]');
    expect(err).toContain('$.next.images.formatz: unknown key');
    expect(err).toContain('$.discovery: fallback "frontend" needs discovery');
  });

  it('rejects an unknown flag with a usage message', async () => {
    const proc = runCli(['optimizer', '--confg', 'x.json']);
    started.push(proc);
    expect((await proc.exited()).code).toBe(2);
    expect(proc.stderr()).toContain(
      'next-image optimizer: unknown flag --confg; did you mean --config? (--help lists them)',
    );
  });

  it('finishes in-flight work on SIGTERM, refuses new work, and exits 0', async () => {
    upstream.route('/slowish.jpg', (_req, res) => {
      setTimeout(async () => {
        res.writeHead(200);
        res.end((await makeSampleImages()).jpeg);
      }, 700);
    });
    const file = await configFile({
      server: { hostname: '127.0.0.1', port: 0 },
      next: { imageOptimizer: { fallback: upstream.url } },
    });
    const proc = runCli(['optimizer', '--config', file]);
    started.push(proc);
    const [, url] = await proc.waitFor(/"url":"(http:\/\/127\.0\.0\.1:\d+)"/);
    const inFlight = request(`${url}/_next/image?url=%2Fslowish.jpg&w=640&q=75`);
    await expect.poll(() => upstream.hits.get('/slowish.jpg') ?? 0).toBe(1);
    proc.child.kill('SIGTERM');
    await proc.waitFor(/shutting down/);
    // New work is refused: the listener is gone (refused), an idle keep-alive socket is reset,
    // or a request already on a socket gets 503 — and nothing reaches the upstream.
    const late = await request(`${url}/_next/image?url=%2Fphoto.webp&w=640&q=75`).then(
      (r) => r.statusCode,
      (error: NodeJS.ErrnoException) => error.code,
    );
    expect(['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET', 503]).toContain(late);
    expect(upstream.hits.get('/photo.webp')).toBeUndefined();
    const res = await inFlight;
    expect(res.statusCode).toBe(200);
    await res.body.arrayBuffer();
    const { code } = await proc.exited();
    expect(code).toBe(0);
  });
});
