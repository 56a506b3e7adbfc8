// The gateway case of `npm run bench` (issue 4 §6, issue 15 §3): cache hits of /_next/image
// straight to the optimizer and through three proxies on the guide's routes, side by side in
// one run — our gateway, the real @platformatic/gateway from npm, and nginx (keep-alive
// upstreams) as the native baseline — with the CPU each hop's own process spends per request.
// Real processes throughout: an optimizer, the proxies as children, a static origin for the
// one cache miss in this process, and a closed-loop undici load.
// Run alone: node bench/gateway.ts [--quick]
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../lib/logger.ts';
import { startStaticServer } from '../lib/static-server.ts';
import { runLoad } from './lib/load.ts';
import { nginxBinary, startNginx } from './lib/nginx.ts';
import { type Child, cpuMs, freePort, start, stop, waitReady } from './lib/proc.ts';
import { type Ratio, type Row, renderMarkdown } from './lib/report.ts';
import { median, type RunStats } from './lib/stats.ts';

/** Knobs of the gateway bench. */
export interface GatewayBenchOptions {
  concurrency: number;
  /**
   * Requests per measured run (a fixed load of hits, so CPU per request does not depend on
   * how busy the machine is); a run stops early after `runMs`. The columns take turns,
   * `rounds` times, after a warm-up of `warmup` requests each.
   */
  requests: number;
  warmup: number;
  runMs: number;
  rounds: number;
  /** Also measure our gateway with this many workers (0 or 1: skip). */
  workers: number;
  log: (line: string) => void;
}

export const defaultGatewayBenchOptions: GatewayBenchOptions = {
  concurrency: 32,
  requests: 4_000,
  warmup: 3_000,
  runMs: 20_000,
  rounds: 3,
  workers: 2,
  log: (line) => process.stderr.write(`[bench:gateway] ${line}\n`),
};

const CLI = fileURLToPath(new URL('../bin/next-image.js', import.meta.url));
const PLATFORMATIC = fileURLToPath(
  new URL('../test/support/platformatic-gateway.ts', import.meta.url),
);
const SAMPLES = fileURLToPath(new URL('../assets/samples/', import.meta.url));
const IMAGE = '/_next/image?url=%2Fmountains.jpg&w=1080&q=75';
const HEADERS = { accept: 'image/avif,image/webp,*/*' };

/** The guide's gateway block (section 3): the same routes for every proxy. */
const guideBlock = (optimizer: string, fallback: string) => ({
  applications: [
    {
      id: 'optimizer',
      origin: optimizer,
      proxy: { prefix: '/', routes: ['/_next/image'], methods: ['GET' as const] },
    },
    { id: 'fallback', origin: fallback, proxy: { prefix: '/', routes: ['/*'] } },
  ],
});

/** One thing to measure: where the load goes and which process is the hop. */
interface Column {
  id: string;
  label: string;
  url: string;
  /** The hop's process (its descendants included); the optimizer's for the direct column. */
  pid: number;
}

interface Measured {
  stats: RunStats;
  /** CPU ms per request of the hop's process alone. */
  hopCpu: number;
  /** CPU ms per request of the optimizer plus the hop. */
  pathCpu: number;
}

async function measure(
  column: Column,
  optimizerPid: number,
  options: GatewayBenchOptions,
): Promise<Measured> {
  const pids = column.pid === optimizerPid ? [optimizerPid] : [optimizerPid, column.pid];
  const before = pids.map(cpuMs);
  const stats = await runLoad({
    origin: column.url,
    request: () => ({ path: IMAGE, headers: HEADERS }),
    concurrency: options.concurrency,
    count: options.requests,
    maxMs: options.runMs,
  });
  const used = pids.map((pid, i) => cpuMs(pid) - (before[i] ?? 0));
  const per = (ms: number): number => (stats.count > 0 ? ms / stats.count : Number.NaN);
  return {
    stats,
    hopCpu: per(used.at(-1) ?? 0),
    pathCpu: per(used.reduce((sum, ms) => sum + ms, 0)),
  };
}

async function startOurs(
  dir: string,
  block: ReturnType<typeof guideBlock>,
  workers: number,
): Promise<{ child: Child; url: string }> {
  const port = await freePort();
  const adminPort = await freePort();
  const file = join(dir, `gateway-${port}.json`);
  await writeFile(
    file,
    JSON.stringify({
      server: { hostname: '127.0.0.1', logger: { level: 'warn' } },
      gateway: block,
      admin: { port: adminPort },
      workers,
    }),
  );
  const child = start('gateway', process.execPath, [
    CLI,
    'gateway',
    '-c',
    file,
    '--port',
    `${port}`,
  ]);
  await waitReady(child, `http://127.0.0.1:${adminPort}/readyz`, 30_000);
  return { child, url: `http://127.0.0.1:${port}` };
}

async function startPlatformatic(
  dir: string,
  block: ReturnType<typeof guideBlock>,
): Promise<{ child: Child; url: string }> {
  const port = await freePort();
  const file = join(dir, 'platformatic.json');
  await writeFile(file, JSON.stringify({ gateway: block, port }));
  const child = start('@platformatic/gateway', process.execPath, [PLATFORMATIC, file]);
  const url = `http://127.0.0.1:${port}`;
  await waitReady(child, `${url}${IMAGE}`, 60_000);
  return { child, url };
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
  const skipped: Row[] = [];
  try {
    const optimizerPort = await freePort();
    const optimizerUrl = `http://127.0.0.1:${optimizerPort}`;
    const optimizerFile = join(dir, 'optimizer.json');
    await writeFile(
      optimizerFile,
      JSON.stringify({
        server: { hostname: '127.0.0.1', logger: { level: 'warn' } },
        next: { imageOptimizer: { fallback: 'fallback' } },
        discovery: { apps: { fallback: samples.url } },
      }),
    );
    const optimizer = start('optimizer', process.execPath, [
      CLI,
      'optimizer',
      '--config',
      optimizerFile,
      '--port',
      String(optimizerPort),
    ]);
    children.push(optimizer);
    await waitReady(optimizer, `${optimizerUrl}/healthz`, 30_000);
    const optimizerPid = optimizer.proc.pid ?? 0;
    const block = guideBlock(optimizerUrl, samples.url);

    const columns: Column[] = [
      { id: 'direct', label: 'client → optimizer', url: optimizerUrl, pid: optimizerPid },
    ];
    const add = (id: string, label: string, started: { child: Child; url: string }): void => {
      children.push(started.child);
      columns.push({ id, label, url: started.url, pid: started.child.proc.pid ?? 0 });
    };
    add('gw', 'client → our gateway → optimizer', await startOurs(dir, block, 1));
    try {
      add('plt', 'client → @platformatic/gateway → optimizer', await startPlatformatic(dir, block));
    } catch (error: unknown) {
      skipped.push({ id: 'plt', label: '@platformatic/gateway', error: String(error) });
    }
    const nginx = nginxBinary();
    if (nginx === undefined) {
      skipped.push({
        id: 'nginx',
        label: 'nginx',
        error: 'skipped: nginx is not installed (apt-get install -y nginx)',
      });
    } else {
      const port = await freePort();
      const child = await startNginx(nginx, dir, port, {
        optimizer: optimizerUrl,
        fallback: samples.url,
      });
      const url = `http://127.0.0.1:${port}`;
      await waitReady(child, `${url}${IMAGE}`, 30_000);
      add('nginx', 'client → nginx → optimizer', { child, url });
    }
    if (options.workers > 1) {
      add(
        `gw×${options.workers}`,
        `client → our gateway (${options.workers} workers) → optimizer`,
        await startOurs(dir, block, options.workers),
      );
    }

    // One miss fills the cache; a warm-up run of each column lets the JITs settle.
    const warm = { ...options, requests: options.warmup };
    for (const column of columns) await measure(column, optimizerPid, warm);
    const runs = new Map<string, Measured[]>(columns.map((c) => [c.id, []]));
    for (let round = 0; round < options.rounds; round++) {
      const line: string[] = [];
      for (const column of columns) {
        const m = await measure(column, optimizerPid, options);
        runs.get(column.id)?.push(m);
        line.push(`${column.id} ${m.stats.rps.toFixed(0)} req/s ${m.hopCpu.toFixed(3)} ms`);
      }
      options.log(`round ${round + 1}: ${line.join(', ')}`);
    }
    const rows: Row[] = columns.map((column) => row(column, runs.get(column.id) ?? [], options));
    const ratios: Ratio[] = [
      {
        name: 'gw/plt: our gateway vs @platformatic/gateway',
        numerator: 'gw',
        denominator: 'plt',
        target: 1.2,
      },
      { name: 'gw/nginx: our gateway vs nginx', numerator: 'gw', denominator: 'nginx' },
      { name: 'plt/nginx', numerator: 'plt', denominator: 'nginx' },
      {
        name: 'gw/direct: through our gateway vs straight to the optimizer',
        numerator: 'gw',
        denominator: 'direct',
        target: 0.85,
      },
    ];
    const load = loadavg()[0];
    // Columns measured back to back share the machine's load of that moment: the per-round
    // CPU ratio is steadier than the ratio of medians when others use the cores.
    const paired = (a: string, b: string): string => {
      const ra = runs.get(a) ?? [];
      const rb = runs.get(b) ?? [];
      if (ra.length === 0 || rb.length === 0) return 'n/a';
      const each = ra.map((m, i) => (rb[i]?.hopCpu ?? Number.NaN) / m.hopCpu);
      return `${median(each).toFixed(2)} (rounds: ${each.map((r) => r.toFixed(2)).join(', ')})`;
    };
    const markdown = renderMarkdown({
      title: 'Gateway: cache hits straight to the optimizer and through each proxy',
      context: [
        `${availableParallelism()} CPUs shared by the load generator, the optimizer and the proxy ` +
          `(1-min load average ${load?.toFixed(1)} at the end); concurrency ${options.concurrency}; ` +
          `${options.rounds} rounds of ${options.requests} hits per column (at most ${options.runMs} ms), taking turns, ` +
          `after ${options.warmup} warm-up hits each; the round with the median req/s.`,
        'CPU ms/req is the hop\'s own process tree (for "direct": the optimizer\'s), from /proc/<pid>/stat over the run; ' +
          "the notes give the whole path (optimizer + hop). Every proxy has the guide's routes and logs at warn.",
        'gw/plt and gw/nginx are judged by CPU per request (the middle column): on a shared machine req/s is mostly noise.',
        `Per-round CPU ratios, median first: gw/plt ${paired('gw', 'plt')} (target ≥ 1.2); ` +
          `gw/nginx ${paired('gw', 'nginx')}.`,
      ],
      rows: [...rows, ...skipped],
      ratios,
    });
    return {
      rows: rows.map((r) => ({
        id: r.id,
        rps: r.stats?.rps,
        cpuMsPerRequest: r.stats?.cpuMsPerOp,
      })),
      loadAverage: load,
      markdown,
    };
  } finally {
    for (const child of children.reverse()) await stop(child);
    await samples.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The column's row: the median round by req/s, with the median CPU per request. */
function row(column: Column, runs: Measured[], options: GatewayBenchOptions): Row {
  const byRps = [...runs].sort((a, b) => a.stats.rps - b.stats.rps);
  const mid = byRps[Math.floor(byRps.length / 2)];
  if (mid === undefined) return { id: column.id, label: column.label, error: 'no runs' };
  const path = median(runs.map((m) => m.pathCpu));
  return {
    id: column.id,
    label: column.label,
    concurrency: options.concurrency,
    stats: {
      ...mid.stats,
      cpuMsPerOp: median(runs.map((m) => m.hopCpu)),
      notes: [`path CPU ${path.toFixed(3)} ms/req`, ...mid.stats.notes],
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(
      'Usage: node bench/gateway.ts [--quick]\n\nCache hits direct to the optimizer, through our gateway, @platformatic/gateway and nginx, side by side (bench/README.md).\n\n  --quick     one round of 2,000 hits, no workers row\n  -h, --help  this text\n',
    );
    process.exit(0);
  }
  const quick = process.argv.includes('--quick');
  const result = await benchGateway(
    quick
      ? { ...defaultGatewayBenchOptions, rounds: 1, requests: 2_000, warmup: 2_000, workers: 0 }
      : undefined,
  );
  process.stdout.write(String(result.markdown));
}
