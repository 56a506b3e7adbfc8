import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { type CliProcess, runCli } from '../support/processes.ts';

const started: CliProcess[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.stop()));
});

/** Pids whose parent is `pid` (Linux /proc). */
async function childrenOf(pid: number): Promise<number[]> {
  const out: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // Field 4 is the parent pid; the command name (field 2) may hold spaces, so split after ")".
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === pid) out.push(Number(entry));
  }
  return out;
}

describe('next-image dev (npm start)', () => {
  it('serves optimised sample images and the fallback through the gateway, then stops cleanly', async () => {
    const dev = runCli(['dev', '--port', '0']);
    started.push(dev);
    const [, gateway] = await dev.waitFor(/gateway\s+(http:\/\/127\.0\.0\.1:\d+)/, 30_000);
    const [, relative] = await dev.waitFor(/'(http:\/\/[^']+_next\/image\?url=%2F[^']+)'/);
    const [, absolute] = await dev.waitFor(/'(http:\/\/[^']+_next\/image\?url=http[^']+)'/);
    expect(relative).toMatch(/&w=1080&q=75$/);

    for (const url of [relative, absolute]) {
      const res = await request(url ?? '', { headers: { accept: 'image/webp' } });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('image/webp');
      expect((await res.body.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    }
    const sample = decodeURIComponent(relative?.match(/url=([^&]+)/)?.[1] ?? '');
    const direct = await request(
      `${gateway}/_next/image?url=${encodeURIComponent(sample)}&w=1080&q=75`,
      {
        headers: { accept: 'image/webp' },
      },
    );
    expect(direct.statusCode).toBe(200);
    await direct.body.dump();

    const page = await request(`${gateway}/`);
    expect(page.statusCode).toBe(200);
    expect(await page.body.text()).toContain('Served by the dev fallback');
    const original = await request(`${gateway}${sample}`);
    expect(original.statusCode).toBe(200);
    expect(original.headers['content-type']).toMatch(/^image\/(jpeg|png)$/);
    await original.body.dump();
    // POST /_next/image is the fallback's, as in the guide (which serves files: GET/HEAD only).
    const post = await request(`${gateway}/_next/image`, { method: 'POST', body: 'x' });
    expect(await post.body.text()).toContain('Route POST:/_next/image not found');

    // Whatever the stack started (the optimizer may run transform workers) must end with it.
    const children = existsSync('/proc') ? await childrenOf(dev.child.pid ?? 0) : [];
    dev.child.kill('SIGTERM');
    expect(await dev.exited()).toEqual({ code: 0, signal: null });
    await expect
      .poll(() => children.filter((pid) => existsSync(`/proc/${pid}`)), { timeout: 5_000 })
      .toEqual([]);
    const after = await request(`${gateway}/`).then(
      () => 'still answering',
      (error: NodeJS.ErrnoException) => error.code,
    );
    expect(after).toBe('ECONNREFUSED');
  }, 60_000);

  it('sends everything but GET /_next/image to --fallback', async () => {
    const frontend = createServer((req, res) => res.end(`frontend ${req.method} ${req.url}`));
    frontend.listen(0, '127.0.0.1');
    await once(frontend, 'listening');
    try {
      const url = `http://127.0.0.1:${(frontend.address() as AddressInfo).port}`;
      const dev = runCli(['dev', '--port', '0', '--fallback', url]);
      started.push(dev);
      const [, gateway] = await dev.waitFor(/gateway\s+(http:\/\/127\.0\.0\.1:\d+)/, 30_000);
      expect(await (await request(`${gateway}/about`)).body.text()).toBe('frontend GET /about');
      const post = await request(`${gateway}/_next/image`, { method: 'POST', body: 'x' });
      expect(await post.body.text()).toBe('frontend POST /_next/image');
      dev.child.kill('SIGTERM');
      expect((await dev.exited()).code).toBe(0);
    } finally {
      frontend.closeAllConnections();
      frontend.close();
    }
  });

  it('says which address is taken when --port is in use, and exits 2', async () => {
    const squatter = createServer();
    squatter.listen(0, '127.0.0.1');
    await once(squatter, 'listening');
    try {
      const port = (squatter.address() as AddressInfo).port;
      const dev = runCli(['dev', '--port', String(port)]);
      started.push(dev);
      expect((await dev.exited()).code).toBe(2);
      expect(dev.stderr()).toContain(`127.0.0.1:${port} is already in use`);
    } finally {
      squatter.close();
    }
  });

  it('rejects --fallback together with --public', async () => {
    const dev = runCli(['dev', '--fallback', 'http://localhost:3000', '--public', '.']);
    started.push(dev);
    expect((await dev.exited()).code).toBe(2);
    expect(dev.stderr()).toContain('use it or --fallback, not both');
  });
});
