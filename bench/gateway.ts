// The gateway case of `npm run bench` (issue 4 §6): cache-hit throughput of /_next/image
// through the gateway versus straight to the optimizer, in the same run, and the gateway's
// p50 overhead. Real processes: an optimizer and a gateway (`next-image` children), a static
// origin for the one cache miss in this process, and a closed-loop undici load.
// Run alone: node bench/gateway.ts
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../lib/logger.ts';
import { startStaticServer } from '../lib/static-server.ts';
import { runLoad } from './lib/load.ts';
import { type Child, cpuMs, freePort, start, stop, waitReady } from './lib/proc.ts';
import type { RunStats } from './lib/stats.ts';

/** Knobs of the gateway bench. */
export interface GatewayBenchOptions {
  concurrency: number;
  /** Length of each measured run; runs alternate direct/gateway `rounds` times. */
  runMs: number;
  rounds: number;
  /** Also measure a gateway with this many workers (0 or 1: skip). */
  workers: number;
  log: (line: string) => void;
}

export const defaultGatewayBenchOptions: GatewayBenchOptions = {
  concurrency: 32,
  runMs: 3_000,
  rounds: 3,
  workers: 2,
  log: (line) => process.stderr.write(`[bench:gateway] ${line}\n`),
};

const CLI = fileURLToPath(new URL('../bin/next-image.js', import.meta.url));
const SAMPLES = fileURLToPath(new URL('../assets/samples/', import.meta.url));
const IMAGE = '/_next/image?url=%2Fmountains.jpg&w=1080&q=75';
const HEADERS = { accept: 'image/avif,image/webp,*/*' };

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

async function startChild(
  command: 'optimizer' | 'gateway',
  config: unknown,
  dir: string,
  port: number,
): Promise<Child> {
  const file = join(dir, `${command}-${port}.json`);
  await writeFile(file, JSON.stringify(config));
  return start(command, process.execPath, [CLI, command, '--config', file, '--port', String(port)]);
}

/** A gateway child with the guide's routes in front of `optimizerUrl`; resolves once ready. */
async function startGatewayChild(
  dir: string,
  optimizerUrl: string,
  fallbackUrl: string,
  workers: number,
): Promise<{ child: Child; url: string }> {
  const port = await freePort();
  const adminPort = await freePort();
  const child = await startChild(
    'gateway',
    {
      server: { hostname: '127.0.0.1', logger: { level: 'warn' } },
      gateway: {
        applications: [
          { id: 'optimizer', proxy: { prefix: '/', routes: ['/_next/image'], methods: ['GET'] } },
          { id: 'fallback', proxy: { prefix: '/', routes: ['/*'] } },
        ],
      },
      discovery: { apps: { optimizer: optimizerUrl, fallback: fallbackUrl } },
      admin: { port: adminPort },
      workers,
    },
    dir,
    port,
  );
  await waitReady(child, `http://127.0.0.1:${adminPort}/readyz`, 30_000);
  return { child, url: `http://127.0.0.1:${port}` };
}

interface Measured {
  stats: RunStats;
  /** CPU ms per request of the serving processes (optimizer, plus gateway when used). */
  cpuMsPerRequest: number;
  /** CPU ms per request of the last pid alone (the gateway, when used). */
  lastCpuMsPerRequest: number;
}

async function measure(
  origin: string,
  pids: number[],
  options: GatewayBenchOptions,
): Promise<Measured> {
  const cpuBefore = pids.reduce((sum, pid) => sum + cpuMs(pid), 0);
  const last = pids.at(-1);
  const lastBefore = last === undefined ? 0 : cpuMs(last);
  const stats = await runLoad({
    origin,
    request: () => ({ path: IMAGE, headers: HEADERS }),
    concurrency: options.concurrency,
    count: Number.MAX_SAFE_INTEGER,
    maxMs: options.runMs,
  });
  const cpu = pids.reduce((sum, pid) => sum + cpuMs(pid), 0) - cpuBefore;
  const lastCpu = last === undefined ? 0 : cpuMs(last) - lastBefore;
  const per = (ms: number): number => (stats.count > 0 ? ms / stats.count : Number.NaN);
  return { stats, cpuMsPerRequest: per(cpu), lastCpuMsPerRequest: per(lastCpu) };
}

/** Runs the bench; returns the numbers and a Markdown section. */
export async function benchGateway(
  options: GatewayBenchOptions = defaultGatewayBenchOptions,
): Promise<Record<string, unknown>> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-gateway-'));
  const samples = await startStaticServer(SAMPLES, {
    host: '127.0.0.1',
    port: 0,
    logger: createLogger('bench-samples', 'warn'),
  });
  const children: Child[] = [];
  try {
    const optimizerPort = await freePort();
    const optimizerUrl = `http://127.0.0.1:${optimizerPort}`;
    const optimizer = await startChild(
      'optimizer',
      {
        server: { hostname: '127.0.0.1', logger: { level: 'warn' } },
        next: { imageOptimizer: { fallback: 'fallback' } },
        discovery: { apps: { fallback: samples.url } },
      },
      dir,
      optimizerPort,
    );
    children.push(optimizer);
    await waitReady(optimizer, `${optimizerUrl}/healthz`, 30_000);

    const single = await startGatewayChild(dir, optimizerUrl, samples.url, 1);
    children.push(single.child);
    const multi =
      options.workers > 1
        ? await startGatewayChild(dir, optimizerUrl, samples.url, options.workers)
        : undefined;
    if (multi !== undefined) children.push(multi.child);
    const gatewayUrl = single.url;

    // One miss fills the cache; a warm-up run of each path lets the JIT settle.
    const warm = { ...options, runMs: Math.min(3_000, options.runMs) };
    await measure(gatewayUrl, [], warm);
    await measure(optimizerUrl, [], warm);
    if (multi !== undefined) await measure(multi.url, [], warm);

    const optimizerPid = optimizer.proc.pid ?? 0;
    const gatewayPid = single.child.proc.pid ?? 0;
    const direct: Measured[] = [];
    const through: Measured[] = [];
    const throughWorkers: Measured[] = [];
    for (let round = 0; round < options.rounds; round++) {
      direct.push(await measure(optimizerUrl, [optimizerPid], options));
      through.push(await measure(gatewayUrl, [optimizerPid, gatewayPid], options));
      if (multi !== undefined) {
        throughWorkers.push(
          await measure(multi.url, [optimizerPid, multi.child.proc.pid ?? 0], options),
        );
      }
      options.log(
        `round ${round + 1}: direct ${direct.at(-1)?.stats.rps.toFixed(0)} req/s, ` +
          `gateway ${through.at(-1)?.stats.rps.toFixed(0)} req/s` +
          (multi === undefined
            ? ''
            : `, gateway ×${options.workers} ${throughWorkers.at(-1)?.stats.rps.toFixed(0)} req/s`),
      );
    }
    const directRps = median(direct.map((m) => m.stats.rps));
    const gatewayRps = median(through.map((m) => m.stats.rps));
    const directP50 = median(direct.map((m) => m.stats.p50Ms));
    const gatewayP50 = median(through.map((m) => m.stats.p50Ms));
    const errors = [...direct, ...through, ...throughWorkers].reduce(
      (sum, m) => sum + m.stats.errors,
      0,
    );
    const workersRps =
      throughWorkers.length > 0 ? median(throughWorkers.map((m) => m.stats.rps)) : undefined;
    const result = {
      cpus: availableParallelism(),
      concurrency: options.concurrency,
      runMs: options.runMs,
      rounds: options.rounds,
      directRps: Math.round(directRps),
      gatewayRps: Math.round(gatewayRps),
      ratio: Number((gatewayRps / directRps).toFixed(3)),
      target: 0.85,
      directP50Ms: Number(directP50.toFixed(2)),
      gatewayP50Ms: Number(gatewayP50.toFixed(2)),
      p50OverheadMs: Number((gatewayP50 - directP50).toFixed(2)),
      directCpuMsPerRequest: Number(median(direct.map((m) => m.cpuMsPerRequest)).toFixed(3)),
      gatewayPathCpuMsPerRequest: Number(median(through.map((m) => m.cpuMsPerRequest)).toFixed(3)),
      gatewayOnlyCpuMsPerRequest: Number(
        median(through.map((m) => m.lastCpuMsPerRequest)).toFixed(3),
      ),
      loadAverage: loadavg()[0],
      workers: options.workers,
      workersRps: workersRps === undefined ? undefined : Math.round(workersRps),
      workersRatio:
        workersRps === undefined ? undefined : Number((workersRps / directRps).toFixed(3)),
      workersP50Ms:
        throughWorkers.length > 0
          ? Number(median(throughWorkers.map((m) => m.stats.p50Ms)).toFixed(2))
          : undefined,
      errors,
      notes: [...new Set([...direct, ...through].flatMap((m) => m.stats.notes))],
    };
    return { ...result, markdown: markdown(result) };
  } finally {
    for (const child of children.reverse()) await stop(child);
    await samples.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function markdown(r: {
  cpus: number;
  concurrency: number;
  directRps: number;
  gatewayRps: number;
  ratio: number;
  directP50Ms: number;
  gatewayP50Ms: number;
  p50OverheadMs: number;
  directCpuMsPerRequest: number;
  gatewayPathCpuMsPerRequest: number;
  gatewayOnlyCpuMsPerRequest: number;
  loadAverage: number | undefined;
  workers: number;
  workersRps: number | undefined;
  workersRatio: number | undefined;
  workersP50Ms: number | undefined;
  errors: number;
  notes: string[];
}): string {
  return [
    '## Gateway: cache hits through the gateway vs. straight to the optimizer',
    '',
    `${r.cpus} CPUs shared by the load generator, the optimizer and the gateway ` +
      `(1-min load average ${r.loadAverage?.toFixed(1)} at the end); concurrency ${r.concurrency}; ` +
      'median of the rounds.',
    '',
    '| path | req/s | p50 ms | CPU ms/req (serving processes) |',
    '|---|---:|---:|---:|',
    `| client → optimizer | ${r.directRps} | ${r.directP50Ms} | ${r.directCpuMsPerRequest} |`,
    `| client → gateway → optimizer | ${r.gatewayRps} | ${r.gatewayP50Ms} | ${r.gatewayPathCpuMsPerRequest} |`,
    ...(r.workersRps === undefined
      ? []
      : [
          `| client → gateway (${r.workers} workers) → optimizer | ${r.workersRps} | ${r.workersP50Ms} | |`,
        ]),
    '',
    `Ratio ${r.ratio} (target ≥ 0.85); p50 overhead ${r.p50OverheadMs} ms; ` +
      `the gateway alone ${r.gatewayOnlyCpuMsPerRequest} CPU ms/req; errors ${r.errors}.` +
      (r.workersRatio === undefined ? '' : ` With ${r.workers} workers: ratio ${r.workersRatio}.`),
    `Statuses: ${r.notes.join('; ')}`,
    '',
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await benchGateway();
  process.stdout.write(String(result.markdown));
}
