// Column (a): raw sharp with Next.js 16's pipeline and encoder settings (spec statements 24–26),
// in its own process so its peak RSS is its own. Input: a JSON file path (SharpChildInput).
// After its warm-up the child prints "ready" and waits for a line on stdin, so several children
// start their timed runs together; then it prints one JSON line (SharpChildOutput).
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import type { OutputFormat } from './jobs.ts';
import type { RunStats } from './stats.ts';
import { summarize } from './stats.ts';

/** What the parent sends. */
export type SharpChildInput = {
  jobs: Array<{ file: string; width: number; quality: number; output: OutputFormat }>;
  /** Jobs in flight at once (the optimizer's concurrency). */
  concurrency: number;
  count: number;
  maxMs: number;
  /** sharp.concurrency(); Next uses floor(cores / 2) in production. */
  sharpThreads: number;
  /** The i-th timed job is jobs[(offset + i × stride) % jobs.length]: children share the mix. */
  offset: number;
  stride: number;
};

/** What the child prints. */
export type SharpChildOutput = {
  stats: RunStats;
  latenciesMs: number[];
  peakRssMb: number;
  outputBytes: number[];
};

// Next.js 16 transform.js: limitInputPixels, sequentialRead, timeout 7 s, rotate, resize without
// enlargement, then the encoder with Next's options.
async function transform(
  input: Buffer,
  width: number,
  quality: number,
  output: OutputFormat,
): Promise<Buffer> {
  const image = sharp(input, { limitInputPixels: 268_402_689, sequentialRead: true })
    .timeout({ seconds: 7 })
    .rotate()
    .resize(width, undefined, { withoutEnlargement: true });
  if (output === 'webp') return image.webp({ quality }).toBuffer();
  if (output === 'png') return image.png({ quality }).toBuffer();
  return image.jpeg({ quality, mozjpeg: true }).toBuffer();
}

async function main(): Promise<void> {
  const input = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as SharpChildInput;
  sharp.concurrency(input.sharpThreads);
  const files = new Map<string, Buffer>();
  for (const job of input.jobs)
    if (!files.has(job.file)) files.set(job.file, readFileSync(job.file));
  const run = (index: number): Promise<Buffer> => {
    const job = input.jobs[index % input.jobs.length]!;
    return transform(files.get(job.file)!, job.width, job.quality, job.output);
  };
  // Warm-up: one pass over every job, untimed; it also records each job's output size.
  const outputBytes: number[] = [];
  for (let i = 0; i < input.jobs.length; i++) outputBytes.push((await run(i)).length);
  process.stdout.write('ready\n');
  await once(process.stdin, 'data');

  const latencies: number[] = [];
  let errors = 0;
  let bytes = 0;
  let next = 0;
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const deadline = start + input.maxMs;
  const worker = async (): Promise<void> => {
    while (next < input.count && performance.now() < deadline) {
      const i = next++;
      const t0 = performance.now();
      try {
        // Not `bytes += await …`: that reads `bytes` before the await and loses concurrent adds.
        const out = await run(input.offset + i * input.stride);
        bytes += out.length;
      } catch {
        errors += 1;
      }
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: input.concurrency }, worker));
  const stats = summarize({
    latenciesMs: latencies,
    errors,
    durationMs: performance.now() - start,
    bytes,
  });
  const cpu = process.cpuUsage(cpuBefore);
  if (stats.count > 0) stats.cpuMsPerOp = (cpu.user + cpu.system) / 1000 / stats.count;
  stats.notes.push(
    `sharp.concurrency ${sharp.concurrency()}, ${input.concurrency} in flight, ${availableParallelism()} CPUs`,
  );
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(
    `${JSON.stringify({ stats, latenciesMs: latencies, peakRssMb, outputBytes } satisfies SharpChildOutput)}\n`,
  );
}

await main();
process.stdin.destroy();
