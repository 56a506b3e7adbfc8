import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { SourceImage } from './images.ts';
import type { Job } from './jobs.ts';
import { runLoad } from './load.ts';
import { NEXT_APP_DIR, prepareNextApp, startNext } from './next-app.ts';
import { freePort, RssSampler, start, stop, waitReady } from './proc.ts';
import type { Row } from './report.ts';
import {
  type BenchSettings,
  errorText,
  largeMisses,
  missesThenHits,
  pairRows,
  serve,
  withCpu,
} from './serve-load.ts';

/** Column (d): bare fastify returning a fixed buffer of `size` bytes. */
export async function bareColumn(size: number, s: BenchSettings): Promise<Row> {
  const label = `bare fastify, fixed ${(size / 1024).toFixed(1)} KB buffer`;
  const port = await freePort();
  const child = start('bare fastify', process.execPath, [
    new URL('./bare-server.ts', import.meta.url).pathname,
    String(port),
    String(size),
  ]);
  const rss = new RssSampler(child.proc.pid!);
  try {
    await waitReady(child, `http://127.0.0.1:${port}/healthz`, 20_000);
    const stats = await withCpu(child.proc.pid!, () =>
      runLoad({
        origin: `http://127.0.0.1:${port}`,
        request: () => ({
          path: '/_next/image?url=%2Fphoto-1.jpg&w=640&q=75',
          headers: { accept: 'image/webp' },
        }),
        concurrency: s.hitConcurrency,
        count: s.hitCount,
        maxMs: s.hitMaxMs,
      }),
    );
    return { id: 'd', label, stats, peakRssMb: rss.peakMb(), concurrency: s.hitConcurrency };
  } catch (error: unknown) {
    return { id: 'd', label, error: errorText(error) };
  } finally {
    rss.stop();
    await stop(child);
  }
}

/** Installs and builds bench/next-app with `images` in public/ (once, for every Next column). */
export async function prepareNext(
  images: readonly SourceImage[],
  s: BenchSettings,
): Promise<string | undefined> {
  try {
    await prepareNextApp(images, s.log);
    return undefined;
  } catch (error: unknown) {
    return errorText(error);
  }
}

/** Column (e-large): `next start` (a fresh process) on column (f)'s large-source misses. */
export async function nextLargeColumn(jobs: Job[], s: BenchSettings): Promise<Row> {
  const label = `Next.js 16.4.6 next start, large misses (fresh process)`;
  try {
    await rm(join(NEXT_APP_DIR, '.next', 'cache', 'images'), { recursive: true, force: true });
    const port = await freePort();
    return await serve(startNext(port), `http://127.0.0.1:${port}`, '/', async (target, rss) => {
      const stats = await largeMisses(target, jobs, s, `next-large-${s.runId}`);
      return {
        id: 'e-large',
        label,
        stats,
        peakRssMb: rss.peakMb(),
        concurrency: s.largeConcurrency,
      };
    });
  } catch (error: unknown) {
    return { id: 'e-large', label, error: errorText(error) };
  }
}

/** Columns (e-miss) and (e-hit): `next start` of bench/next-app (prepared by prepareNext). */
export async function nextColumns(jobs: Job[], s: BenchSettings): Promise<Row[]> {
  const labels: [string, string] = [
    'Next.js 16.4.6 next start, misses',
    'Next.js 16.4.6 next start, hits',
  ];
  try {
    await rm(join(NEXT_APP_DIR, '.next', 'cache', 'images'), { recursive: true, force: true });
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    return await serve(startNext(port), origin, '/', async (target, rss) => {
      const stats = await missesThenHits(target, jobs, s, `next-${s.runId}`);
      return pairRows(['e-miss', 'e-hit'], labels, s, stats, rss.peakMb());
    });
  } catch (error: unknown) {
    return labels.map((label, i) => ({
      id: i === 0 ? 'e-miss' : 'e-hit',
      label,
      error: errorText(error),
    }));
  }
}
