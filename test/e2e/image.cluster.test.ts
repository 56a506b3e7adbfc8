import { afterAll, describe, expect, it } from 'vitest';
import { PRODUCT_IMAGE, SAMPLE_FRONTEND_IMAGE } from '../../scripts/image/build.ts';
import { podmanIn } from '../../scripts/image/podman.ts';
import { controlPlanePaths } from '../control-plane/config.ts';

// The images `npm run image -- --all` built (the cluster project's global setup builds
// them before the cluster starts), run with podman as a restricted pod runs them: a
// read-only root filesystem, uid 65532, every capability dropped, no network. Requests go
// from inside the container to its own loopback (`podman exec`).

const podman = await podmanIn(controlPlanePaths().cacheRoot);
const RESTRICTED = [
  '--read-only',
  '--user',
  '65532:65532',
  '--cap-drop=ALL',
  '--security-opt',
  'no-new-privileges',
  '--network=none',
  '--tmpfs',
  '/tmp',
];
const started: string[] = [];

afterAll(async () => {
  for (const id of started) await podman(['rm', '-f', id], { allowFailure: true });
});

/** Runs `script` with the container's node; its stdout. */
async function nodeIn(id: string, node: string, script: string): Promise<string> {
  return (await podman(['exec', id, node, '--input-type=module', '-e', script])).stdout;
}

/** Waits until `id`'s logs contain `text` (a server's ready line). */
async function logsContain(id: string, text: string): Promise<string> {
  const until = Date.now() + 60_000;
  for (;;) {
    const logs = await podman(['logs', id]);
    const all = logs.stdout + logs.stderr;
    if (all.includes(text)) return all;
    if (Date.now() > until) throw new Error(`container ${id} never printed "${text}":\n${all}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('the next-image image (npm run image)', () => {
  it('answers --help as uid 65532 on a read-only root filesystem', async () => {
    const out = await podman(['run', '--rm', ...RESTRICTED, PRODUCT_IMAGE, '--help']);
    for (const command of ['optimizer', 'gateway', 'operator', 'dev'])
      expect(out.stdout).toContain(command);
  });

  it('runs `dev`, which serves an optimized sample image, and cannot write its root fs', async () => {
    const id = (
      await podman(['run', '-d', ...RESTRICTED, PRODUCT_IMAGE, 'dev', '--port', '3042'])
    ).stdout.trim();
    started.push(id);
    const banner = await logsContain(id, 'next-image dev is running');
    const url = /'(http:\/\/[^']+\/_next\/image\?[^']+)'/.exec(banner)?.[1];
    expect(url, banner).toBeDefined();
    const reply = JSON.parse(
      await nodeIn(
        id,
        '/nodejs/bin/node',
        `const r = await fetch(${JSON.stringify(url)}, { headers: { accept: 'image/webp' } });
         const b = Buffer.from(await r.arrayBuffer());
         let write = 'allowed';
         try { (await import('node:fs')).writeFileSync('/app/x', 'x'); } catch (e) { write = e.code; }
         console.log(JSON.stringify({ status: r.status, type: r.headers.get('content-type'), bytes: b.length, uid: process.getuid(), write }));`,
      ),
    ) as { status: number; type: string; bytes: number; uid: number; write: string };
    expect(reply).toMatchObject({ status: 200, type: 'image/webp', uid: 65532, write: 'EROFS' });
    expect(reply.bytes).toBeGreaterThan(100);
  });
});

describe('the sample Next.js frontend image', () => {
  it('serves its next/image page, the counted /photos/ source and the CDN', async () => {
    const id = (
      await podman([
        'run',
        '-d',
        ...RESTRICTED,
        '--tmpfs',
        '/app/.next/cache',
        SAMPLE_FRONTEND_IMAGE,
      ])
    ).stdout.trim();
    started.push(id);
    await logsContain(id, 'Ready in');
    const cdn = (
      await podman(['run', '-d', ...RESTRICTED, SAMPLE_FRONTEND_IMAGE, 'node', 'cdn.mjs'])
    ).stdout.trim();
    started.push(cdn);
    await logsContain(cdn, 'cdn listening on 8080');
    const page = JSON.parse(
      await nodeIn(
        id,
        'node',
        `const html = await (await fetch('http://127.0.0.1:3000/')).text();
         const photo = await fetch('http://127.0.0.1:3000/photos/probe.jpg');
         await photo.arrayBuffer();
         const counts = await (await fetch('http://127.0.0.1:3000/source-requests')).json();
         console.log(JSON.stringify({ html, photo: photo.status, type: photo.headers.get('content-type'), counts }));`,
      ),
    ) as { html: string; photo: number; type: string; counts: Record<string, number> };
    // next/image markup: the src goes through /_next/image with a width and a quality.
    expect(page.html).toMatch(/\/_next\/image\?url=%2Fmountains\.jpg&amp;w=\d+&amp;q=75/);
    expect(page).toMatchObject({
      photo: 200,
      type: 'image/jpeg',
      counts: { '/photos/probe.jpg': 1 },
    });
    const counted = JSON.parse(
      await nodeIn(
        cdn,
        'node',
        `const r = await fetch('http://127.0.0.1:8080/flowers.jpg?v=1'); await r.arrayBuffer();
         console.log(JSON.stringify({ status: r.status, counts: await (await fetch('http://127.0.0.1:8080/_requests')).json() }));`,
      ),
    ) as { status: number; counts: Record<string, number> };
    expect(counted).toEqual({ status: 200, counts: { '/flowers.jpg?v=1': 1 } });
  });
});
