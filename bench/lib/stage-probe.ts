// The decode / resize / encode split of a transform, and the sharp settings sweep (--profile).
// libvips runs decode, resize and encode as one pipeline, strip by strip, so one run cannot
// time them apart. This child times three pipelines per job, one job at a time, its process
// CPU (every thread) around each, median of `reps`:
//   decode        load (with the same shrink-on-load) + rotate + nearest-neighbour resize → raw
//   + resize      the optimizer's own resizePipeline (lanczos3) → raw
//   + encode      the optimizer's optimizeImage (the encoder Next uses) → the real output
// so decode = the first, resize = second − first, encode = third − second.
// Usage: node bench/lib/stage-probe.ts <input.json>; prints one JSON line (StageProbeOutput).
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { sharp } from '../../optimizer/image/sharp-setup.ts';
import { optimizeImage, resizePipeline } from '../../optimizer/image/transform.ts';
import type { OutputFormat } from './jobs.ts';

/** One job to probe. */
export type ProbeJob = { file: string; width: number; quality: number; output: OutputFormat };

/** What the parent sends. */
export type StageProbeInput = {
  /** Jobs to split into stages (the (b) mix). */
  jobs: ProbeJob[];
  /** Sets for the settings sweep, e.g. { small: the (b) mix, large: the (f) mix }. */
  sweep: Record<string, ProbeJob[]>;
  reps: number;
};

/** CPU ms per stage of one job (medians). */
export type StageSplit = { job: ProbeJob; decodeMs: number; resizeMs: number; encodeMs: number };

/** One point of the sweep: a set of jobs run one at a time with given sharp settings. */
export type SweepPoint = {
  set: string;
  threads: number;
  cache: boolean;
  cpuMsPerJob: number;
  wallMsPerJob: number;
};

/** What the child prints. */
export type StageProbeOutput = {
  splits: StageSplit[];
  sweep: SweepPoint[];
  /** sharp's settings in the optimizer's children (sharp-setup.ts), as the split ran. */
  defaults: { threads: number; cache: unknown };
};

const TYPES: Record<OutputFormat, string> = {
  webp: 'image/webp',
  jpeg: 'image/jpeg',
  png: 'image/png',
};

const cpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

function options(job: ProbeJob, buffer: Buffer) {
  return {
    buffer,
    contentType: TYPES[job.output],
    width: job.width,
    quality: job.quality,
    timeoutSeconds: 60,
    maxInputPixels: 268_402_689,
  };
}

async function medianCpu(reps: number, run: () => Promise<unknown>): Promise<number> {
  await run(); // warm: code paths, allocator arenas
  const samples: number[] = [];
  for (let i = 0; i < reps; i++) {
    const before = cpuMs();
    await run();
    samples.push(cpuMs() - before);
  }
  samples.sort((x, y) => x - y);
  return samples[Math.floor(samples.length / 2)]!;
}

async function split(job: ProbeJob, buffer: Buffer, reps: number): Promise<StageSplit> {
  const o = options(job, buffer);
  const decode = await medianCpu(reps, () =>
    sharp(buffer, { limitInputPixels: o.maxInputPixels, sequentialRead: true })
      .rotate()
      .resize(job.width, undefined, { withoutEnlargement: true, kernel: 'nearest' })
      .raw()
      .toBuffer(),
  );
  const resized = await medianCpu(reps, () => resizePipeline(o).raw().toBuffer());
  const full = await medianCpu(reps, () => optimizeImage(o));
  return {
    job,
    decodeMs: decode,
    resizeMs: Math.max(0, resized - decode),
    encodeMs: Math.max(0, full - resized),
  };
}

const SETTINGS: readonly { threads: number; cache: boolean }[] = [
  { threads: 1, cache: false },
  { threads: 1, cache: true },
  { threads: 2, cache: false },
  { threads: 2, cache: true },
];

/**
 * Every setting over one set of jobs, in interleaved rounds (one pass of the set per setting
 * per round) so that the machine's drift — neighbours' load, warm-up — falls on all alike.
 */
async function sweepSet(
  set: string,
  jobs: ProbeJob[],
  files: Map<string, Buffer>,
  rounds: number,
): Promise<SweepPoint[]> {
  // A fresh copy per job, as every request brings its own bytes: reusing one buffer would let
  // the libvips cache answer what it never could in the optimizer.
  const run = (job: ProbeJob): Promise<Buffer> =>
    optimizeImage(options(job, Buffer.from(files.get(job.file)!)));
  const totals = SETTINGS.map(() => ({ cpu: 0, wall: 0 }));
  for (let r = 0; r <= rounds; r++) {
    for (const [k, setting] of SETTINGS.entries()) {
      sharp.concurrency(setting.threads);
      sharp.cache(setting.cache);
      const cpu = cpuMs();
      const start = performance.now();
      for (const job of jobs) await run(job);
      if (r === 0) continue; // the first round warms every setting up, untimed
      totals[k]!.cpu += cpuMs() - cpu;
      totals[k]!.wall += performance.now() - start;
    }
  }
  const n = jobs.length * rounds;
  return SETTINGS.map((setting, k) => ({
    set,
    ...setting,
    cpuMsPerJob: totals[k]!.cpu / n,
    wallMsPerJob: totals[k]!.wall / n,
  }));
}

async function main(): Promise<void> {
  const input = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as StageProbeInput;
  const all = [input.jobs, ...Object.values(input.sweep)].flat();
  const files = new Map(all.map((j) => [j.file, readFileSync(j.file)]));
  // The optimizer's own settings (sharp-setup.ts) for the split.
  const splits: StageSplit[] = [];
  for (const job of input.jobs) splits.push(await split(job, files.get(job.file)!, input.reps));
  const defaults = { threads: sharp.concurrency(), cache: sharp.cache() };
  const sweep: SweepPoint[] = [];
  for (const [set, jobs] of Object.entries(input.sweep)) {
    sweep.push(...(await sweepSet(set, jobs, files, Math.max(1, input.reps - 1))));
  }
  process.stdout.write(
    `${JSON.stringify({ splits, sweep, defaults } satisfies StageProbeOutput)}\n`,
  );
}

await main();
