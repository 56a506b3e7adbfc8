import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Category } from './cpu-profile.ts';
import type { Job } from './jobs.ts';
import { metricDelta } from './metrics.ts';
import { start } from './proc.ts';
import type { BenchSettings } from './serve-load.ts';
import type { ProbeJob, StageProbeInput, StageProbeOutput } from './stage-probe.ts';
import type { RunStats } from './stats.ts';

const SCRIPT = new URL('./stage-probe.ts', import.meta.url).pathname;

/** The optimizer's main-process stages, by the script urls of their frames (--cpu-prof). */
export const MAIN_CATEGORIES: readonly Category[] = [
  { name: 'fetch', urls: ['/optimizer/fetch/', '/node_modules/undici/'] },
  {
    name: 'IPC/copies',
    urls: ['/optimizer/image/process-pool', 'internal/child_process'],
  },
  { name: 'cache', urls: ['/optimizer/storage/', '/optimizer/image-cache', '/lru-cache/'] },
  {
    name: 'pipeline',
    urls: ['/optimizer/pipeline', '/optimizer/image/', '/optimizer/cache-key'],
  },
  {
    name: 'HTTP',
    urls: [
      '/node_modules/fastify/',
      '/node_modules/find-my-way/',
      '/node_modules/avvio/',
      '/node_modules/@fastify/',
      'node:_http',
      '/optimizer/app',
      '/optimizer/params',
      '/optimizer/response-headers',
      '/optimizer/retry-after',
      '/optimizer/negotiate',
      '/lib/server',
    ],
  },
  { name: 'metrics/logging', urls: ['/node_modules/prom-client/', '/node_modules/pino'] },
];

const probeJob = (job: Job): ProbeJob => ({
  file: job.image.path,
  width: job.width,
  quality: job.quality,
  output: job.output,
});

/** Runs bench/lib/stage-probe.ts in its own process (nothing else of the bench is busy then). */
export async function runStageProbe(
  jobs: Job[],
  large: Job[],
  s: BenchSettings,
  reps: number,
): Promise<StageProbeOutput> {
  const input: StageProbeInput = {
    jobs: [...jobs, ...large].map(probeJob),
    sweep: { 'small (b) mix': jobs.map(probeJob), 'large (f) mix': large.map(probeJob) },
    reps,
  };
  const file = join(s.workDir, 'stage-probe-input.json');
  await writeFile(file, JSON.stringify(input));
  const child = start('stage probe', process.execPath, [SCRIPT, file]);
  const code = await child.exited;
  const last = child.output().trim().split('\n').at(-1) ?? '';
  if (code !== 0 || !last.startsWith('{'))
    throw new Error(`stage probe exited with ${code}:\n${child.output().slice(-3000)}`);
  return JSON.parse(last) as StageProbeOutput;
}

/** What the breakdown of column (b) is computed from. */
export type BreakdownInput = {
  misses: RunStats;
  /** Column (a)'s CPU per job: raw sharp, the same jobs. */
  rawCpuMsPerOp?: number;
  /** Main-thread ms per category during the misses (--profile). */
  mainThread?: Map<string, number>;
  probe?: StageProbeOutput;
  /** The files of the (b) mix, to pick its jobs out of the probe's splits. */
  smallFiles: ReadonlySet<string>;
};

const f = (v: number | undefined, d = 1): string =>
  v === undefined || Number.isNaN(v) ? '–' : v.toFixed(d);

function shares(probe: StageProbeOutput, files: ReadonlySet<string>) {
  const splits = probe.splits.filter((x) => files.has(x.job.file));
  const sum = (k: 'decodeMs' | 'resizeMs' | 'encodeMs'): number =>
    splits.reduce((t, x) => t + x[k], 0);
  const total = sum('decodeMs') + sum('resizeMs') + sum('encodeMs');
  return {
    decode: sum('decodeMs') / total,
    resize: sum('resizeMs') / total,
    encode: sum('encodeMs') / total,
  };
}

/** Markdown: where one miss of column (b) spends its CPU and time, stage by stage. */
export function breakdownMarkdown(input: BreakdownInput): string {
  const { misses } = input;
  const m = misses.metrics;
  const n = misses.count;
  if (m === undefined || n === 0) return '';
  const cpu = (stage: string): number =>
    (metricDelta(
      m.before,
      m.after,
      'next_image_transform_stage_cpu_seconds_total',
      `stage="${stage}"`,
    ) *
      1000) /
    n;
  const wall = (name: string, label?: string): number => {
    const sum = metricDelta(m.before, m.after, `${name}_sum`, label);
    const count = metricDelta(m.before, m.after, `${name}_count`, label);
    return count > 0 ? (sum / count) * 1000 : Number.NaN;
  };
  const stageWall = (stage: string): number =>
    wall('next_image_transform_stage_seconds', `stage="${stage}"`);
  const main = misses.cpuOwnMsPerOp;
  const children = misses.cpuChildrenMsPerOp;
  const [receive, sharpCpu, reply] = [cpu('receive'), cpu('sharp'), cpu('reply')];
  const childStages = receive + sharpCpu + reply;
  const childWall = stageWall('receive') + stageWall('sharp') + stageWall('reply');
  const queueWall = wall('next_image_transform_duration_seconds') - childWall;
  const rows: string[][] = [];
  const push = (
    stage: string,
    where: string,
    c: number | undefined,
    w: number | undefined,
    how: string,
  ) => rows.push([stage, where, f(c, 2), f(w), how]);

  const thread = input.mainThread;
  const sampled = thread === undefined ? 0 : [...thread.values()].reduce((x, y) => x + y, 0) / n;
  // On a busy machine a sampled thread that is runnable but descheduled still collects
  // samples, so samples can add up to more than the process's CPU: then scale them down to it.
  const scale = main !== undefined && sampled > main ? main / sampled : 1;
  const per = (name: string): number | undefined =>
    thread === undefined ? undefined : ((thread.get(name) ?? 0) / n) * scale;
  const scaled = scale < 1 ? `, scaled ×${scale.toFixed(2)} to /proc` : '';
  const byProfile =
    thread === undefined ? 'needs --profile' : `main-thread samples (--cpu-prof) by stack${scaled}`;
  push(
    'fetch (source download, body assembly)',
    'main',
    per('fetch'),
    wall('next_image_fetch_duration_seconds'),
    byProfile,
  );
  push(
    'IPC/copies, main side (pipe write, reply parse)',
    'main',
    per('IPC/copies'),
    undefined,
    byProfile,
  );
  push('cache lookup + write', 'main', per('cache'), undefined, byProfile);
  push(
    'pipeline (detect, header checks, queue)',
    'main',
    per('pipeline'),
    queueWall,
    `${byProfile}; wall: queue wait`,
  );
  push('HTTP (route, validation, response)', 'main', per('HTTP'), undefined, byProfile);
  push('metrics, logging', 'main', per('metrics/logging'), undefined, byProfile);
  push('GC (main thread)', 'main', per('GC'), undefined, byProfile);
  push('other JS / native on the main thread', 'main', per('other'), undefined, byProfile);
  if (thread !== undefined && main !== undefined && scale === 1)
    push(
      'off the main thread (libuv pool, GC helpers, kernel)',
      'main',
      main - sampled,
      undefined,
      '/proc minus main-thread samples',
    );
  push(
    '**main process total**',
    'main',
    main,
    misses.meanMs,
    '/proc/<pid>/stat; wall: request latency',
  );
  push(
    'IPC/copies, child: receive the source',
    'child',
    receive,
    stageWall('receive'),
    'child cpuUsage/hrtime around it',
  );
  push(
    'IPC/copies, child: reply, GC between jobs',
    'child',
    reply,
    stageWall('reply'),
    'child cpuUsage; wall: round trip − receive − sharp',
  );
  const probe = input.probe;
  const sh = probe === undefined ? undefined : shares(probe, input.smallFiles);
  const how = probe === undefined ? 'needs --profile' : 'sharp CPU × share from the stage probe';
  push('decode (incl. shrink-on-load)', 'child', sh && sharpCpu * sh.decode, undefined, how);
  push('resize (lanczos3)', 'child', sh && sharpCpu * sh.resize, undefined, how);
  push("encode (Next's encoder settings)", 'child', sh && sharpCpu * sh.encode, undefined, how);
  push(
    '**sharp: decode + resize + encode**',
    'child',
    sharpCpu,
    stageWall('sharp'),
    'child cpuUsage/hrtime around the pipeline',
  );
  if (children !== undefined)
    push(
      'children, unaccounted (start-up, after the last job)',
      'child',
      children - childStages,
      undefined,
      '/proc minus the stages',
    );
  push('**children total**', 'child', children, undefined, '/proc/<pid>/stat of the children');
  push('**total**', '', misses.cpuMsPerOp, undefined, '');
  const lines = [
    '',
    `### Where a miss of column (b) goes (${n} misses; CPU ms and mean wall ms per miss)`,
    '',
    '| stage | process | CPU ms | wall ms | measured by |',
    '|---|---|---:|---:|---|',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ];
  if (input.rawCpuMsPerOp !== undefined) {
    lines.push(
      '',
      `libvips in our children vs raw sharp: sharp stage ${f(sharpCpu)} ms per miss, column (a) ${f(input.rawCpuMsPerOp)} ms per job (${f(sharpCpu / input.rawCpuMsPerOp, 2)}×); everything else ${f((misses.cpuMsPerOp ?? 0) - sharpCpu)} ms per miss is ours.`,
    );
  }
  if (probe !== undefined) lines.push(probeMarkdown(probe));
  return `${lines.join('\n')}\n`;
}

function probeMarkdown(probe: StageProbeOutput): string {
  const lines = [
    '',
    '#### Stage probe: CPU ms per job, one job at a time, median (bench/lib/stage-probe.ts)',
    '',
    '| source | w | output | decode | resize | encode |',
    '|---|---:|---|---:|---:|---:|',
  ];
  for (const x of probe.splits) {
    const name = x.job.file.slice(x.job.file.lastIndexOf('/') + 1);
    lines.push(
      `| ${name} | ${x.job.width} | ${x.job.output} | ${f(x.decodeMs)} | ${f(x.resizeMs)} | ${f(x.encodeMs)} |`,
    );
  }
  lines.push(
    '',
    '#### sharp settings sweep: the same jobs one at a time (CPU and wall ms per job)',
    '',
    '| set | sharp.concurrency | sharp.cache | CPU ms/job | wall ms/job |',
    '|---|---:|---|---:|---:|',
    ...probe.sweep.map(
      (p) =>
        `| ${p.set} | ${p.threads} | ${p.cache ? 'on' : 'off'} | ${f(p.cpuMsPerJob)} | ${f(p.wallMsPerJob)} |`,
    ),
  );
  return lines.join('\n');
}
