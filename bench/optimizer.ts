import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { bareColumn, nextColumns, nextLargeColumn, prepareNext } from './lib/columns.ts';
import { ensureSourceImages, LARGE_SOURCE_SPECS } from './lib/images.ts';
import { buildJobs, describeJobs } from './lib/jobs.ts';
import { NEXT_APP_DIR } from './lib/next-app.ts';
import { optimizerColumns, optimizerLargeColumn } from './lib/optimizer-column.ts';
import { rawSharpColumn } from './lib/raw-sharp-column.ts';
import { type Ratio, type Row, renderMarkdown } from './lib/report.ts';
import type { BenchSettings } from './lib/serve-load.ts';
import { breakdownMarkdown, runStageProbe } from './lib/stage-breakdown.ts';
import type { StageProbeOutput } from './lib/stage-probe.ts';
import { startStaticServer } from './lib/static-server.ts';
import { median } from './lib/stats.ts';

/** Knobs of the optimizer bench (defaults keep the whole run to a few minutes on 2 cores). */
export type OptimizerBenchOptions = {
  workDir: string;
  widths: number[];
  quality: number;
  missCount: number;
  hitMaxMs: number;
  /** Column (f): large-source misses, at `largeConcurrency` clients. */
  largeCount: number;
  largeConcurrency: number;
  /** Repetitions per pipeline in the stage probe (--profile). */
  probeReps: number;
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
  largeCount: 24,
  largeConcurrency: 8,
  probeReps: 5,
  skipNext: false,
  profile: false,
  pngOut: false,
  log: (line) => process.stderr.write(`[bench] ${line}\n`),
};

const ROW_ORDER = ['a', 'a2', 'b', 'c', 'd', 'e-miss', 'e-hit', 'f', 'e-large'];

const RATIOS: Ratio[] = [
  { name: 'b/a: optimizer misses vs raw sharp', numerator: 'b', denominator: 'a', target: 0.9 },
  {
    name: 'b/a2: optimizer misses vs raw sharp in one process per slot',
    numerator: 'b',
    denominator: 'a2',
  },
  { name: 'c/d: optimizer hits vs bare fastify', numerator: 'c', denominator: 'd', target: 0.7 },
  { name: 'c/e-hit: optimizer hits vs Next.js hits', numerator: 'c', denominator: 'e-hit' },
  {
    name: 'b/e-miss: optimizer misses vs Next.js misses',
    numerator: 'b',
    denominator: 'e-miss',
    target: 1.1,
  },
  { name: 'f/e-large: large-source misses vs Next.js', numerator: 'f', denominator: 'e-large' },
];

/** Peak RSS pairs printed beside each other (target: ours ≤ Next's). */
const RSS_PAIRS: [string, string][] = [
  ['b', 'e-miss'],
  ['f', 'e-large'],
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
    largeCount: o.largeCount,
    largeConcurrency: o.largeConcurrency,
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

function rssMarkdown(rows: readonly Row[]): string {
  const lines = [
    '',
    '| peak RSS | ours MB | Next.js MB | ours / Next | target |',
    '|---|---:|---:|---:|---|',
  ];
  for (const [ours, next] of RSS_PAIRS) {
    const a = rows.find((r) => r.id === ours)?.peakRssMb;
    const b = rows.find((r) => r.id === next)?.peakRssMb;
    const cell = (v: number | undefined): string => (v === undefined ? '–' : v.toFixed(0));
    const ratio = a !== undefined && b !== undefined && b > 0 ? (a / b).toFixed(2) : '–';
    lines.push(`| ${ours} vs ${next} | ${cell(a)} | ${cell(b)} | ${ratio} | ≤ 1 |`);
  }
  return `${lines.join('\n')}\n`;
}

/** Runs columns (a)–(f) on the same sources and jobs and returns the Markdown report. */
export async function benchOptimizer(
  options: Partial<OptimizerBenchOptions> = {},
): Promise<string> {
  const o = { ...defaultOptimizerBenchOptions, ...options };
  await prepareWorkDir(o.workDir);
  const s = settingsFrom(o);
  const loadBefore = load();
  o.log('generating/reusing source images');
  const images = await ensureSourceImages(join(o.workDir, 'images'));
  const largeImages = await ensureSourceImages(join(o.workDir, 'images'), LARGE_SOURCE_SPECS);
  const jobs = buildJobs(images, o.widths, o.quality, o.pngOut);
  const largeJobs = buildJobs(largeImages, [1080, 1920], o.quality);
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
  const upstream = await startStaticServer([...images, ...largeImages]);
  let profile: string | undefined;
  let mainThread: Map<string, number> | undefined;
  try {
    const result = await optimizerColumns(jobs, upstream.origin, s);
    rows.push(...result.rows);
    profile = result.profile;
    mainThread = result.mainThread;
    o.log(`(f) optimizer, large sources, ${s.largeConcurrency} concurrent`);
    rows.push(await optimizerLargeColumn(largeJobs, upstream.origin, s));
  } finally {
    await upstream.close();
  }
  let probe: StageProbeOutput | undefined;
  let probeError = '';
  if (o.profile) {
    o.log('stage probe and sharp settings sweep');
    probe = await runStageProbe(jobs, largeJobs, s, o.probeReps).catch((error: unknown) => {
      probeError = `\nstage probe failed: ${error instanceof Error ? error.message : String(error)}\n`;
      return undefined;
    });
  }

  if (o.skipNext) {
    for (const [id, label] of [
      ['e-miss', 'Next.js misses'],
      ['e-hit', 'Next.js hits'],
      ['e-large', 'Next.js large misses'],
    ] as const)
      rows.push({ id, label, error: 'skipped (--skip-next)' });
  } else {
    o.log('(e) Next.js 16 next start');
    const failure = await prepareNext([...images, ...largeImages], s);
    if (failure === undefined) {
      rows.push(...(await nextColumns(jobs, s)));
      o.log('(e-large) Next.js 16, large sources');
      rows.push(await nextLargeColumn(largeJobs, s));
    } else {
      for (const [id, label] of [
        ['e-miss', 'Next.js misses'],
        ['e-hit', 'Next.js hits'],
        ['e-large', 'Next.js large misses'],
      ] as const)
        rows.push({ id, label, error: failure });
    }
  }
  rows.sort((x, y) => ROW_ORDER.indexOf(x.id) - ROW_ORDER.indexOf(y.id));

  const sources = [...images, ...largeImages]
    .map((i) => `${i.name} ${i.width}×${i.height} ${(i.bytes / 1e6).toFixed(1)} MB`)
    .join(', ');
  const report = renderMarkdown({
    title: 'Optimizer benchmark (issue 2 §5)',
    context: [
      `${new Date().toISOString()}; ${machine()}; load average before ${loadBefore}, after ${load()}`,
      `sources (generated, deterministic): ${sources}`,
      `(f)/(e-large): ${describeJobs(largeJobs)}, ${s.largeCount} misses at ${s.largeConcurrency} concurrent, each server a fresh process; (a)–(e): ${describeJobs(jobs)}; WebP by \`Accept: image/webp\`, the source type by no Accept header`,
      `misses: ${s.missCount} requests per column after an untimed pass over every job; distinct keys by \`?v=<run>-<i>\` on the source url, allowed by \`localPatterns: [{pathname: '**'}]\` in both the optimizer's and Next's config`,
      `transform slots ${s.transformConcurrency} (optimizer \`concurrency\`, and (a)'s jobs in flight); (a) sharp.concurrency ${s.sharpThreads} as Next sets it; client concurrency on misses ${s.missConcurrency}, on hits ${s.hitConcurrency} for ${o.hitMaxMs / 1000} s`,
      "the load generator (undici, closed loop) and the optimizer's fallback file server run in the bench process, on the same cores as the servers",
      `(d) returns a buffer the size of the median (a) output, ${(hitSize / 1024).toFixed(1)} KB; peak RSS = max(sampled VmRSS of the process tree, VmHWM), one figure per server process (b and c share one)`,
    ],
    rows,
    ratios: RATIOS,
  });
  const b = rows.find((r) => r.id === 'b')?.stats;
  const breakdown =
    b === undefined
      ? ''
      : breakdownMarkdown({
          misses: b,
          rawCpuMsPerOp: rows.find((r) => r.id === 'a')?.stats?.cpuMsPerOp,
          mainThread,
          probe,
          smallFiles: new Set(images.map((i) => i.path)),
        });
  const body = `${report}${rssMarkdown(rows)}${breakdown}${probeError}`;
  if (profile === undefined) return body;
  return `${body}\n### Where the optimizer's main thread spends its time (--cpu-prof, self time)\n${profile}`;
}
