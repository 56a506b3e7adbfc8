import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { type CliProcess, runCli } from './processes.ts';

/** One optimizer process of a fleet. */
export interface Replica {
  url: string;
  proc: CliProcess;
}

/** Optimizer processes sharing one config (and so one storage). */
export interface Fleet {
  replicas: Replica[];
  stop(): Promise<void>;
}

/** Starts `count` optimizer processes (`next-image optimizer`) on free loopback ports. */
export async function startFleet(count: number, config: unknown): Promise<Fleet> {
  const dir = await mkdtemp(join(tmpdir(), 'fleet-'));
  const file = join(dir, 'optimizer.json');
  await writeFile(file, JSON.stringify(config));
  const procs = Array.from({ length: count }, () =>
    runCli(['optimizer', '--config', file, '--host', '127.0.0.1', '--port', '0']),
  );
  const stop = async (): Promise<void> => {
    await Promise.all(procs.map((p) => p.stop()));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const replicas = await Promise.all(
      procs.map(async (proc) => {
        const [, url] = await proc.waitFor(/"url":"(http:\/\/127\.0\.0\.1:\d+)"/, 60_000);
        return { url: url!, proc };
      }),
    );
    return { replicas, stop };
  } catch (error: unknown) {
    await stop();
    throw error;
  }
}

/** Sum of every sample of `name` in a Prometheus text exposition. */
export function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) {
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return sum;
}

/** `name` summed over the given replicas' /metrics. */
export async function fleetMetric(replicas: Replica[], name: string): Promise<number> {
  const texts = await Promise.all(
    replicas.map(async (r) => (await request(`${r.url}/metrics`)).body.text()),
  );
  return texts.reduce((sum, text) => sum + metricSum(text, name), 0);
}

/** One image response, body read. */
export interface ImageResponse {
  status: number;
  cache: string | undefined;
  body: Buffer;
}

/** GET /_next/image for a relative source on `base`. */
export async function getImage(
  base: string,
  src: string,
  width = 640,
  quality = 75,
): Promise<ImageResponse> {
  const res = await request(
    `${base}/_next/image?url=${encodeURIComponent(src)}&w=${width}&q=${quality}`,
  );
  const body = Buffer.from(await res.body.arrayBuffer());
  const cache = res.headers['x-nextjs-cache'];
  return { status: res.statusCode, cache: typeof cache === 'string' ? cache : undefined, body };
}
