import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { categorizeProfile, type Phase, summarizeProfile } from './cpu-profile.ts';
import type { Job } from './jobs.ts';
import { freePort, type RssSampler, start } from './proc.ts';
import type { Row } from './report.ts';
import {
  type BenchSettings,
  errorText,
  largeMisses,
  missesThenHits,
  pairRows,
  serve,
  type Target,
} from './serve-load.ts';
import { MAIN_CATEGORIES } from './stage-breakdown.ts';

const REPO_ROOT = new URL('../../', import.meta.url).pathname;

const LABELS: [string, string] = ['optimizer, misses (?v=N busts the key)', 'optimizer, hits'];
const LARGE_LABEL = 'optimizer, large misses (fresh process)';

/** Rows (b) and (c), plus, when `s.profile` is set, a profile summary and the misses' main-thread split. */
export type OptimizerResult = { rows: Row[]; profile?: string; mainThread?: Map<string, number> };

function failed(error: string): OptimizerResult {
  return { rows: LABELS.map((label, i) => ({ id: i === 0 ? 'b' : 'c', label, error })) };
}

/** Starts the optimizer CLI (fallback: the bench's static server), runs `run`, stops it. */
async function withOptimizer<T>(
  fallback: string,
  s: BenchSettings,
  profileDir: string | undefined,
  run: (target: Target, rss: RssSampler) => Promise<T>,
): Promise<{ result: T; pid: number; phases: Phase[] }> {
  const config = {
    next: { imageOptimizer: { enabled: true, fallback }, images: s.images },
    optimizer: {
      concurrency: s.transformConcurrency,
      // BENCH_TRANSFORM_ISOLATION=none compares in-process transforms with the default pool.
      transformIsolation: process.env.BENCH_TRANSFORM_ISOLATION ?? 'process',
    },
  };
  const configFile = join(s.workDir, 'optimizer.json');
  await writeFile(configFile, JSON.stringify(config, null, 2));
  if (profileDir !== undefined) {
    await rm(profileDir, { recursive: true, force: true });
    await mkdir(profileDir, { recursive: true });
  }
  const nodeFlags = profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`];
  const port = await freePort();
  const cli = join(REPO_ROOT, 'bin', 'next-image.js');
  const args = [
    ...nodeFlags,
    cli,
    'optimizer',
    '--config',
    configFile,
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
  ];
  const child = start('optimizer', process.execPath, args, { cwd: REPO_ROOT });
  const pid = child.proc.pid!;
  let phases: Phase[] = [];
  const result = await serve(child, `http://127.0.0.1:${port}`, '/healthz', (target, rss) => {
    phases = target.phases;
    return run(target, rss);
  });
  return { result, pid, phases };
}

/** Columns (b) and (c): misses, then hits, of one optimizer process. */
export async function optimizerColumns(
  jobs: Job[],
  fallback: string,
  s: BenchSettings,
): Promise<OptimizerResult> {
  if (!existsSync(join(REPO_ROOT, 'optimizer', 'server.ts'))) {
    return failed('optimizer/server.ts does not exist yet');
  }
  const profileDir = s.profile ? join(s.workDir, 'profile') : undefined;
  try {
    const {
      result: rows,
      pid,
      phases,
    } = await withOptimizer(fallback, s, profileDir, async (target, rss) => {
      const stats = await missesThenHits(target, jobs, s, `opt-${s.runId}`);
      return pairRows(['b', 'c'], LABELS, s, stats, rss.peakMb());
    });
    if (profileDir === undefined) return { rows };
    // --cpu-prof writes the profile when the process exits, which serve() has waited for.
    const missPhase = phases.find((p) => p.name === 'misses');
    const mainThread =
      missPhase === undefined
        ? undefined
        : await categorizeProfile(profileDir, pid, missPhase, MAIN_CATEGORIES);
    return { rows, profile: await summarizeProfile(profileDir, pid, phases), mainThread };
  } catch (error: unknown) {
    return failed(errorText(error));
  }
}

/** Column (f): large-source misses on a fresh optimizer process, its own peak RSS. */
export async function optimizerLargeColumn(
  jobs: Job[],
  fallback: string,
  s: BenchSettings,
): Promise<Row> {
  try {
    const { result } = await withOptimizer(fallback, s, undefined, async (target, rss) => {
      const stats = await largeMisses(target, jobs, s, `opt-large-${s.runId}`);
      const row: Row = {
        id: 'f',
        label: LARGE_LABEL,
        stats,
        peakRssMb: rss.peakMb(),
        concurrency: s.largeConcurrency,
      };
      return row;
    });
    return result;
  } catch (error: unknown) {
    return { id: 'f', label: LARGE_LABEL, error: errorText(error) };
  }
}
