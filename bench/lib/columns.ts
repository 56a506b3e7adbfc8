import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import { type Job, jobHeaders, jobPath } from './jobs.ts';
import { runLoad } from './load.ts';
import { describeStages, scrape } from './metrics.ts';
import { NEXT_APP_DIR, prepareNextApp, startNext } from './next-app.ts';
import {
  type Child,
  cpuMs,
  freePort,
  RssSampler,
  runToEnd,
  start,
  stop,
  waitReady,
} from './proc.ts';
import type { Row } from './report.ts';
import type { SharpChildInput, SharpChildOutput } from './sharp-child.ts';
import type { RunStats } from './stats.ts';

/** Load shape shared by every column, so they stay comparable. */
export type BenchSettings = {
  workDir: string;
  /** Distinct-key requests per miss column (after an untimed warm-up pass over every job). */
  missCount: number;
  missMaxMs: number;
  /** Client concurrency on misses: twice the transform slots, so the queue never runs dry. */
  missConcurrency: number;
  hitCount: number;
  hitMaxMs: number;
  hitConcurrency: number;
  /** The optimizer's transform slots, and column (a)'s jobs in flight. */
  transformConcurrency: number;
  /** sharp.concurrency() for column (a), as Next sets it: floor(cores / 2), at least 1. */
  sharpThreads: number;
  /** Next.js `images` config, shared by the optimizer and the Next app. */
  images: Record<string, unknown>;
  /** Makes cache-busting queries unique to this run. */
  runId: string;
  log: (line: string) => void;
};

// The optimizer's histograms that split a miss into its stages (Next.js has no /metrics).
const STAGES = {
  fetch: 'next_image_fetch_duration_seconds',
  transform: 'next_image_transform_duration_seconds',
};

const REPO_ROOT = new URL('../../', import.meta.url).pathname;

const errorText = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

/** Column (a): raw sharp in a child process. Also returns each job's output size. */
export async function rawSharpColumn(
  jobs: Job[],
  s: BenchSettings,
): Promise<{ row: Row; outputBytes: number[] }> {
  const input: SharpChildInput = {
    jobs: jobs.map((j) => ({
      file: j.image.path,
      width: j.width,
      quality: j.quality,
      output: j.output,
    })),
    concurrency: s.transformConcurrency,
    count: s.missCount,
    maxMs: s.missMaxMs,
    sharpThreads: s.sharpThreads,
  };
  const inputFile = join(s.workDir, 'sharp-input.json');
  await writeFile(inputFile, JSON.stringify(input));
  const script = new URL('./sharp-child.ts', import.meta.url).pathname;
  const label = 'raw sharp, Next encoder settings';
  try {
    const out = await runToEnd('raw sharp', process.execPath, [script, inputFile], {
      timeoutMs: s.missMaxMs * 3,
    });
    const last = out.trim().split('\n').at(-1)!;
    const result = JSON.parse(last) as SharpChildOutput;
    const row: Row = {
      id: 'a',
      label,
      stats: result.stats,
      peakRssMb: result.peakRssMb,
      concurrency: s.transformConcurrency,
    };
    return { row, outputBytes: result.outputBytes };
  } catch (error: unknown) {
    return { row: { id: 'a', label, error: errorText(error) }, outputBytes: [] };
  }
}

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

/** Runs `load` and records the CPU the server process tree spent per request meanwhile. */
async function withCpu(pid: number, load: () => Promise<RunStats>): Promise<RunStats> {
  const before = cpuMs(pid);
  const stats = await load();
  if (stats.count > 0) stats.cpuMsPerOp = (cpuMs(pid) - before) / stats.count;
  return stats;
}

/** Untimed pass over every job with distinct keys (JIT, connection pools, libvips warm-up). */
async function warmMisses(origin: string, jobs: Job[], tag: string): Promise<void> {
  await runLoad({
    origin,
    request: (i) => ({
      path: jobPath(jobs[i % jobs.length]!, `${tag}-warm-${i}`),
      headers: jobHeaders(jobs[i % jobs.length]!),
    }),
    concurrency: 2,
    count: jobs.length,
    maxMs: 120_000,
  });
}

/** Runs the miss load and then the hit load of one /_next/image server. */
async function missesThenHits(
  origin: string,
  jobs: Job[],
  s: BenchSettings,
  tag: string,
  pid: number,
): Promise<[Row['stats'], Row['stats']]> {
  await warmMisses(origin, jobs, tag);
  s.log(`${tag}: misses`);
  const before = await scrape(origin);
  const misses = await withCpu(pid, () =>
    runLoad({
      origin,
      request: (i) => ({
        path: jobPath(jobs[i % jobs.length]!, `${tag}-${i}`),
        headers: jobHeaders(jobs[i % jobs.length]!),
      }),
      concurrency: s.missConcurrency,
      count: s.missCount,
      maxMs: s.missMaxMs,
    }),
  );
  const stages = describeStages(before, await scrape(origin), STAGES);
  if (stages !== '') misses.notes.push(stages);
  // Prime every unbusted key once, then hammer them.
  for (const job of jobs) {
    const res = await request(`${origin}${jobPath(job)}`, { headers: jobHeaders(job) });
    await res.body.dump();
  }
  s.log(`${tag}: hits`);
  const hits = await withCpu(pid, () =>
    runLoad({
      origin,
      request: (i) => ({
        path: jobPath(jobs[i % jobs.length]!),
        headers: jobHeaders(jobs[i % jobs.length]!),
      }),
      concurrency: s.hitConcurrency,
      count: s.hitCount,
      maxMs: s.hitMaxMs,
    }),
  );
  return [misses, hits];
}

function pairRows(
  ids: [string, string],
  labels: [string, string],
  s: BenchSettings,
  stats: [Row['stats'], Row['stats']],
  peak: number,
): Row[] {
  return [
    {
      id: ids[0],
      label: labels[0],
      stats: stats[0],
      peakRssMb: peak,
      concurrency: s.missConcurrency,
    },
    {
      id: ids[1],
      label: labels[1],
      stats: stats[1],
      peakRssMb: peak,
      concurrency: s.hitConcurrency,
    },
  ];
}

async function serve(
  child: Child,
  readyUrl: string,
  run: (rss: RssSampler, pid: number) => Promise<Row[]>,
): Promise<Row[]> {
  const rss = new RssSampler(child.proc.pid!);
  try {
    await waitReady(child, readyUrl, 120_000);
    return await run(rss, child.proc.pid!);
  } finally {
    rss.stop();
    await stop(child, 10_000);
  }
}

/** Columns (b) and (c): the optimizer CLI, its fallback being the bench's static server. */
export async function optimizerColumns(
  jobs: Job[],
  fallback: string,
  s: BenchSettings,
): Promise<Row[]> {
  const labels: [string, string] = ['optimizer, misses (?v=N busts the key)', 'optimizer, hits'];
  const cli = join(REPO_ROOT, 'bin', 'next-image.js');
  if (!existsSync(join(REPO_ROOT, 'optimizer', 'server.ts'))) {
    const error = 'optimizer/server.ts does not exist yet';
    return labels.map((label, i) => ({ id: i === 0 ? 'b' : 'c', label, error }));
  }
  const config = {
    next: { imageOptimizer: { enabled: true, fallback }, images: s.images },
    optimizer: { concurrency: s.transformConcurrency },
  };
  const configFile = join(s.workDir, 'optimizer.json');
  await writeFile(configFile, JSON.stringify(config, null, 2));
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  try {
    const child = start(
      'optimizer',
      process.execPath,
      [cli, 'optimizer', '--config', configFile, '--host', '127.0.0.1', '--port', String(port)],
      {
        cwd: REPO_ROOT,
      },
    );
    return await serve(child, `${origin}/healthz`, async (rss, pid) => {
      const stats = await missesThenHits(origin, jobs, s, `opt-${s.runId}`, pid);
      return pairRows(['b', 'c'], labels, s, stats, rss.peakMb());
    });
  } catch (error: unknown) {
    return labels.map((label, i) => ({ id: i === 0 ? 'b' : 'c', label, error: errorText(error) }));
  }
}

/** Columns (e-miss) and (e-hit): `next start` of bench/next-app (installed and built here). */
export async function nextColumns(jobs: Job[], s: BenchSettings): Promise<Row[]> {
  const labels: [string, string] = [
    'Next.js 16.4.6 next start, misses',
    'Next.js 16.4.6 next start, hits',
  ];
  try {
    await prepareNextApp(
      jobs.map((j) => j.image).filter((img, i, all) => all.indexOf(img) === i),
      s.log,
    );
    await rm(join(NEXT_APP_DIR, '.next', 'cache', 'images'), { recursive: true, force: true });
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    return await serve(startNext(port), `${origin}/`, async (rss, pid) => {
      const stats = await missesThenHits(origin, jobs, s, `next-${s.runId}`, pid);
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
