import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Phase, summarizeProfile } from './cpu-profile.ts';
import type { Job } from './jobs.ts';
import { freePort, start } from './proc.ts';
import type { Row } from './report.ts';
import { type BenchSettings, errorText, missesThenHits, pairRows, serve } from './serve-load.ts';

const REPO_ROOT = new URL('../../', import.meta.url).pathname;

const LABELS: [string, string] = ['optimizer, misses (?v=N busts the key)', 'optimizer, hits'];

/** Rows (b) and (c), plus a profile summary when `s.profile` is set. */
export type OptimizerResult = { rows: Row[]; profile?: string };

function failed(error: string): OptimizerResult {
  return { rows: LABELS.map((label, i) => ({ id: i === 0 ? 'b' : 'c', label, error })) };
}

/** Columns (b) and (c): the optimizer CLI, its fallback being the bench's static server. */
export async function optimizerColumns(
  jobs: Job[],
  fallback: string,
  s: BenchSettings,
): Promise<OptimizerResult> {
  if (!existsSync(join(REPO_ROOT, 'optimizer', 'server.ts'))) {
    return failed('optimizer/server.ts does not exist yet');
  }
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
  const profileDir = join(s.workDir, 'profile');
  await rm(profileDir, { recursive: true, force: true });
  const nodeFlags = s.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  if (s.profile) await mkdir(profileDir, { recursive: true });
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
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
  let phases: Phase[] = [];
  try {
    const child = start('optimizer', process.execPath, args, { cwd: REPO_ROOT });
    const pid = child.proc.pid!;
    const rows = await serve(child, origin, '/healthz', async (target, rss) => {
      phases = target.phases;
      const stats = await missesThenHits(target, jobs, s, `opt-${s.runId}`);
      return pairRows(['b', 'c'], LABELS, s, stats, rss.peakMb());
    });
    if (!s.profile) return { rows };
    // --cpu-prof writes the profile when the process exits, which serve() has waited for.
    return { rows, profile: await summarizeProfile(profileDir, pid, phases) };
  } catch (error: unknown) {
    return failed(errorText(error));
  }
}
