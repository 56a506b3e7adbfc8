import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { bareColumn, nextColumns } from './lib/columns.ts';
import { ensureSourceImages } from './lib/images.ts';
import { buildJobs, describeJobs } from './lib/jobs.ts';
import { NEXT_APP_DIR } from './lib/next-app.ts';
import { optimizerColumns } from './lib/optimizer-column.ts';
import { rawSharpColumn } from './lib/raw-sharp-column.ts';
import { type Ratio, type Row, renderMarkdown } from './lib/report.ts';
import type { BenchSettings } from './lib/serve-load.ts';
import { startStaticServer } from './lib/static-server.ts';
import { median } from './lib/stats.ts';

/** Knobs of the optimizer bench (defaults keep the whole run to a few minutes on 2 cores). */
export type OptimizerBenchOptions = {
  workDir: string;
  widths: number[];
  quality: number;
  missCount: number;
  hitMaxMs: number;
  skipNext: boolean;
  /** Profile the optimizer's main thread (--cpu-prof) and append the top frames per phase. */
  profile: boolean;
  /** Add PNG → PNG jobs (no Accept on a PNG source): Next's palette PNG, very slow. */
  pngOut: boolean;
  log: (line: string) => void;
};

/** Defaults: w ∈ {640, 1080}, q 75, 120 misses per miss column, 8 s per hit column. */
export const defaultOptimizerBenchOptions: OptimizerBenchOptions = {
  workDir: new URL('.work/', import.meta.url).pathname,
  widths: [640, 1080],
  quality: 75,
  missCount: 120,
  hitMaxMs: 8000,
  skipNext: false,
  profile: false,
  pngOut: false,
  log: (line) => process.stderr.write(`[bench] ${line}\n`),
};

const ROW_ORDER = ['a', 'a2', 'b', 'c', 'd', 'e-miss', 'e-hit'];

const RATIOS: Ratio[] = [
  { name: 'b/a: optimizer misses vs raw sharp', numerator: 'b', denominator: 'a', target: 0.9 },
  {
    name: 'b/a2: optimizer misses vs raw sharp in one process per slot',
    numerator: 'b',
    denominator: 'a2',
  },
  { name: 'c/d: optimizer hits vs bare fastify', numerator: 'c', denominator: 'd', target: 0.7 },
  { name: 'c/e-hit: optimizer hits vs Next.js hits', numerator: 'c', denominator: 'e-hit' },
  { name: 'b/e-miss: optimizer misses vs Next.js misses', numerator: 'b', denominator: 'e-miss' },
];

function settingsFrom(o: OptimizerBenchOptions): BenchSettings {
  const cores = availableParallelism();
  const images = JSON.parse(readFileSync(join(NEXT_APP_DIR, 'images.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  return {
    workDir: o.workDir,
    missCount: o.missCount,
    missMaxMs: 120_000,
    missConcurrency: cores * 2,
    hitCount: 1_000_000,
    hitMaxMs: o.hitMaxMs,
    hitConcurrency: 16,
    transformConcurrency: cores,
    sharpThreads: Math.max(1, Math.floor(cores / 2)),
    images,
    runId: Date.now().toString(36),
    profile: o.profile,
    log: o.log,
  };
}

function machine(): string {
  const model = cpus()[0]?.model ?? 'unknown CPU';
  return `${availableParallelism()} × ${model}, Node ${process.version}, sharp ${sharp.versions.sharp ?? '?'} / libvips ${sharp.versions.vips}`;
}

/**
 * Creates the (gitignored) work dir. Its nested biome.json keeps `biome check .` away from the
 * generated results, JSON and images there (biome does not read .gitignore in this repo).
 */
export async function prepareWorkDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const biome = { root: false, files: { includes: ['!**/*'] } };
  await writeFile(join(dir, 'biome.json'), `${JSON.stringify(biome)}\n`);
}

const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/** Runs columns (a)–(e) on the same sources and jobs and returns the Markdown report. */
export async function benchOptimizer(
  options: Partial<OptimizerBenchOptions> = {},
): Promise<string> {
  const o = { ...defaultOptimizerBenchOptions, ...options };
  await prepareWorkDir(o.workDir);
  const s = settingsFrom(o);
  const loadBefore = load();
  o.log('generating/reusing source images');
  const images = await ensureSourceImages(join(o.workDir, 'images'));
  const jobs = buildJobs(images, o.widths, o.quality, o.pngOut);
  const rows: Row[] = [];

  o.log('(a) raw sharp');
  const raw = await rawSharpColumn(jobs, s, 1);
  rows.push(raw.row);
  if (s.transformConcurrency > 1) {
    o.log(`(a2) raw sharp in ${s.transformConcurrency} processes`);
    rows.push((await rawSharpColumn(jobs, s, s.transformConcurrency)).row);
  }
  const hitSize = raw.outputBytes.length > 0 ? Math.round(median(raw.outputBytes)) : 50_000;
  o.log('(d) bare fastify');
  rows.push(await bareColumn(hitSize, s));

  o.log('(b)/(c) optimizer');
  const upstream = await startStaticServer(images);
  let profile: string | undefined;
  try {
    const result = await optimizerColumns(jobs, upstream.origin, s);
    rows.push(...result.rows);
    profile = result.profile;
  } finally {
    await upstream.close();
  }

  if (o.skipNext) {
    rows.push({ id: 'e-miss', label: 'Next.js misses', error: 'skipped (--skip-next)' });
    rows.push({ id: 'e-hit', label: 'Next.js hits', error: 'skipped (--skip-next)' });
  } else {
    o.log('(e) Next.js 16 next start');
    rows.push(...(await nextColumns(jobs, s)));
  }
  rows.sort((x, y) => ROW_ORDER.indexOf(x.id) - ROW_ORDER.indexOf(y.id));

  const sources = images
    .map((i) => `${i.name} ${i.width}×${i.height} ${(i.bytes / 1e6).toFixed(1)} MB`)
    .join(', ');
  const report = renderMarkdown({
    title: 'Optimizer benchmark (issue 2 §5)',
    context: [
      `${new Date().toISOString()}; ${machine()}; load average before ${loadBefore}, after ${load()}`,
      `sources (generated, deterministic): ${sources}`,
      `${describeJobs(jobs)}; WebP by \`Accept: image/webp\`, the source type by no Accept header`,
      `misses: ${s.missCount} requests per column after an untimed pass over every job; distinct keys by \`?v=<run>-<i>\` on the source url, allowed by \`localPatterns: [{pathname: '**'}]\` in both the optimizer's and Next's config`,
      `transform slots ${s.transformConcurrency} (optimizer \`concurrency\`, and (a)'s jobs in flight); (a) sharp.concurrency ${s.sharpThreads} as Next sets it; client concurrency on misses ${s.missConcurrency}, on hits ${s.hitConcurrency} for ${o.hitMaxMs / 1000} s`,
      "the load generator (undici, closed loop) and the optimizer's fallback file server run in the bench process, on the same cores as the servers",
      `(d) returns a buffer the size of the median (a) output, ${(hitSize / 1024).toFixed(1)} KB; peak RSS = max(sampled VmRSS of the process tree, VmHWM), one figure per server process (b and c share one)`,
    ],
    rows,
    ratios: RATIOS,
  });
  if (profile === undefined) return report;
  return `${report}\n### Where the optimizer's main thread spends its time (--cpu-prof, self time)\n${profile}`;
}
