import { performance } from 'node:perf_hooks';
import { request } from 'undici';
import type { Phase } from './cpu-profile.ts';
import { type Job, jobHeaders, jobPath } from './jobs.ts';
import { runLoad } from './load.ts';
import { describeStages, scrape } from './metrics.ts';
import { type Child, cpuSplitMs, RssSampler, stop, waitReady } from './proc.ts';
import type { Row } from './report.ts';
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
  /** Column (f): large-source misses, and the client concurrency they run at. */
  largeCount: number;
  largeConcurrency: number;
  /** The optimizer's transform slots, and column (a)'s jobs in flight. */
  transformConcurrency: number;
  /** sharp.concurrency() for column (a), as Next sets it: floor(cores / 2), at least 1. */
  sharpThreads: number;
  /** Next.js `images` config, shared by the optimizer and the Next app. */
  images: Record<string, unknown>;
  /** Makes cache-busting queries unique to this run. */
  runId: string;
  /** Run the optimizer under --cpu-prof and summarize where its main thread spends time. */
  profile: boolean;
  log: (line: string) => void;
};

/** The server process being measured, and where to record phase windows for a profile. */
export type Target = { origin: string; pid: number; spawnedAt: number; phases: Phase[] };

// The optimizer's histograms that split a miss into its stages (Next.js has no /metrics).
const STAGES = {
  fetch: 'next_image_fetch_duration_seconds',
  'queue wait + transform': 'next_image_transform_duration_seconds',
};

/** One line for an error, whatever was thrown. */
export const errorText = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

/** Runs `load` and records the CPU the server process tree spent per request meanwhile. */
export async function withCpu(pid: number, load: () => Promise<RunStats>): Promise<RunStats> {
  const before = cpuSplitMs(pid);
  const stats = await load();
  const after = cpuSplitMs(pid);
  if (stats.count === 0) return stats;
  const own = (after.own - before.own) / stats.count;
  const children = (after.descendants - before.descendants) / stats.count;
  stats.cpuMsPerOp = own + children;
  stats.cpuOwnMsPerOp = own;
  stats.cpuChildrenMsPerOp = children;
  // Worth showing only where child processes do part of the work (the optimizer's transforms).
  if (children > 0) {
    stats.notes.push(
      `CPU/req: server process ${own.toFixed(2)} ms, its children ${children.toFixed(2)} ms`,
    );
  }
  return stats;
}

async function phase(
  target: Target,
  name: string,
  load: () => Promise<RunStats>,
): Promise<RunStats> {
  const from = performance.now() - target.spawnedAt;
  const stats = await withCpu(target.pid, load);
  target.phases.push({ name, fromMs: from, toMs: performance.now() - target.spawnedAt });
  return stats;
}

const nth = (jobs: Job[], i: number): Job => jobs[i % jobs.length]!;

/** Misses (distinct keys, after an untimed warm-up pass) and then hits of one /_next/image server. */
export async function missesThenHits(
  target: Target,
  jobs: Job[],
  s: BenchSettings,
  tag: string,
): Promise<[RunStats, RunStats]> {
  const { origin } = target;
  const load = (path: (i: number) => string, concurrency: number, count: number, maxMs: number) =>
    runLoad({
      origin,
      request: (i) => ({ path: path(i), headers: jobHeaders(nth(jobs, i)) }),
      concurrency,
      count,
      maxMs,
    });
  await load((i) => jobPath(nth(jobs, i), `${tag}-warm-${i}`), 2, jobs.length, 120_000);
  s.log(`${tag}: misses`);
  const before = await scrape(origin);
  const misses = await phase(target, 'misses', () =>
    load((i) => jobPath(nth(jobs, i), `${tag}-${i}`), s.missConcurrency, s.missCount, s.missMaxMs),
  );
  const after = await scrape(origin);
  const stages = describeStages(before, after, STAGES);
  if (stages !== '') misses.notes.push(stages);
  if (before !== '') misses.metrics = { before, after };
  // Prime every unbusted key once, then hammer them.
  for (const job of jobs) {
    const res = await request(`${origin}${jobPath(job)}`, { headers: jobHeaders(job) });
    await res.body.dump();
  }
  s.log(`${tag}: hits`);
  const hits = await phase(target, 'hits', () =>
    load((i) => jobPath(nth(jobs, i)), s.hitConcurrency, s.hitCount, s.hitMaxMs),
  );
  return [misses, hits];
}

/** Column (f): distinct-key misses of large sources, after one untimed request per job. */
export async function largeMisses(
  target: Target,
  jobs: Job[],
  s: BenchSettings,
  tag: string,
): Promise<RunStats> {
  const load = (bust: (i: number) => string, concurrency: number, count: number) =>
    runLoad({
      origin: target.origin,
      request: (i) => ({ path: jobPath(nth(jobs, i), bust(i)), headers: jobHeaders(nth(jobs, i)) }),
      concurrency,
      count,
      maxMs: s.missMaxMs,
      timeoutMs: 120_000,
    });
  await load((i) => `${tag}-warm-${i}`, 1, jobs.length);
  s.log(`${tag}: large misses`);
  return phase(target, 'large misses', () =>
    load((i) => `${tag}-${i}`, s.largeConcurrency, s.largeCount),
  );
}

/** The miss row and the hit row of one server. */
export function pairRows(
  ids: [string, string],
  labels: [string, string],
  s: BenchSettings,
  stats: [RunStats, RunStats],
  peakRssMb: number,
): Row[] {
  return [
    { id: ids[0], label: labels[0], stats: stats[0], peakRssMb, concurrency: s.missConcurrency },
    { id: ids[1], label: labels[1], stats: stats[1], peakRssMb, concurrency: s.hitConcurrency },
  ];
}

/** Waits for `child` to be ready, runs `run` while sampling its RSS, then stops it. */
export async function serve<T>(
  child: Child,
  origin: string,
  readyPath: string,
  run: (target: Target, rss: RssSampler) => Promise<T>,
): Promise<T> {
  const spawnedAt = performance.now();
  const rss = new RssSampler(child.proc.pid!);
  try {
    await waitReady(child, `${origin}${readyPath}`, 120_000);
    return await run({ origin, pid: child.proc.pid!, spawnedAt, phases: [] }, rss);
  } finally {
    rss.stop();
    await stop(child, 10_000);
  }
}
