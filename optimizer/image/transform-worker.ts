/**
 * Entry point of a transform child process (see process-pool.ts). It runs one
 * optimizeImage at a time for its parent and exits with it: a child that outlives the
 * server would keep CPUs busy for nobody. The job arrives on the IPC channel, its source's
 * bytes on the SOURCE_FD pipe, read straight into a buffer kept between jobs. Each
 * reply carries what the job cost, stage by stage (TransformTimings).
 */
import { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { optimizeImage } from './transform.ts';
import {
  SOURCE_FD,
  type StageTime,
  type TransformReply,
  type TransformRequest,
} from './worker-protocol.ts';

function reply(message: TransformReply): void {
  process.send?.(message);
}

/** CPU milliseconds this process has used, all threads. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

interface Job {
  request: TransformRequest;
  buffer: Buffer;
  filled: number;
  /** performance.now() and cpuMs() when the message arrived. */
  arrivedAt: number;
  arrivedCpu: number;
  betweenCpuMs: number;
}

let job: Job | undefined;
// Bytes that arrived before their job's message (two channels, no order between them).
const early: Buffer[] = [];
// cpuMs() when the last pipeline ended: what is spent after it counts towards the next job.
let lastPipelineEnd = cpuMs();

/**
 * Sources up to this size land in one buffer the child keeps between jobs. A fresh buffer
 * per job is memory the kernel must fault in page by page while the pipe fills it, and
 * that cost more CPU than the copy itself: measured 39.6 vs 8.5 ms CPU for a 7.6 MB PNG,
 * 2.3 vs 0.5 ms for a 1.1 MB JPEG, on the shared 2-vCPU VM. The cap covers Next's default
 * maximumResponseBody (50 MB); larger sources (a raised limit) get their own buffer, so a
 * child never holds more than this for reuse — and only while busy, see REUSE_IDLE_MS.
 * While a job runs the kept buffer is the one a fresh allocation would be: no extra peak.
 */
const REUSE_MAX_BYTES = 64 * 1024 * 1024;
/** An idle child gives the kept buffer back after this long, so idle RSS falls again. */
const REUSE_IDLE_MS = 10_000;
let kept: Buffer | undefined;
const release = setTimeout(() => {
  kept = undefined;
  // An idle process allocates nothing, so nothing would prompt V8 to collect the buffer.
  (globalThis as { gc?: () => void }).gc?.();
}, REUSE_IDLE_MS);
release.unref();

/** The buffer a source of `length` bytes is read into (sharp only reads it while the job runs). */
function sourceBuffer(length: number): Buffer {
  release.refresh();
  if (length > REUSE_MAX_BYTES) return Buffer.allocUnsafeSlow(length);
  if (kept === undefined || kept.length < length) {
    kept = Buffer.allocUnsafeSlow(Math.min(REUSE_MAX_BYTES, Math.max(length, 1024 * 1024)));
  }
  return kept.subarray(0, length);
}

/** Where the next read from the pipe lands when no job is waiting for bytes. */
const scratch = Buffer.allocUnsafeSlow(64 * 1024);

/**
 * The buffer the next read fills: the rest of the current job's source, so bytes land where
 * sharp reads them instead of being copied out of Node's 64 KiB read chunks (the bench's
 * receive stage: 14.6 → 9.2 ms CPU per miss, one run each on a busy VM), else the scratch
 * buffer. A running job is full, so its bytes are never overwritten while sharp reads them.
 */
function nextReadBuffer(): Buffer {
  if (job !== undefined && job.filled < job.buffer.length) return job.buffer.subarray(job.filled);
  return scratch;
}

/** A read landed in `into`: in place in the job's buffer, or early bytes to set aside. */
function onRead(bytes: number, into: Uint8Array): boolean {
  const current = job;
  if (
    current !== undefined &&
    into.buffer === current.buffer.buffer &&
    into.byteOffset === current.buffer.byteOffset + current.filled
  ) {
    current.filled += bytes;
    if (current.filled === current.buffer.length) run(current);
    return true;
  }
  take(Buffer.from(into.subarray(0, bytes))); // early bytes: the scratch buffer is reused
  return true; // keep reading
}

function take(chunk: Buffer): void {
  if (job === undefined) {
    early.push(chunk);
    return;
  }
  const current = job;
  const n = Math.min(chunk.length, current.buffer.length - current.filled);
  chunk.copy(current.buffer, current.filled, 0, n);
  current.filled += n;
  if (n < chunk.length) early.unshift(chunk.subarray(n)); // never sent before a reply, kept anyway
  if (current.filled === current.buffer.length) run(current);
}

function run(current: Job): void {
  const { id, options } = current.request;
  const startedAt = performance.now();
  const startedCpu = cpuMs();
  const receive: StageTime = {
    wallMs: startedAt - current.arrivedAt,
    cpuMs: startedCpu - current.arrivedCpu,
  };
  const ended = (): StageTime => {
    const cpu = cpuMs();
    lastPipelineEnd = cpu;
    return { wallMs: performance.now() - startedAt, cpuMs: cpu - startedCpu };
  };
  optimizeImage({ ...options, buffer: current.buffer }).then(
    (buffer) => {
      const timings = { receive, sharp: ended(), betweenCpuMs: current.betweenCpuMs };
      finish({ id, ok: true, buffer, timings });
    },
    (error: unknown) => {
      ended();
      finish({ id, ok: false, message: error instanceof Error ? error.message : String(error) });
    },
  );
}

function finish(message: TransformReply): void {
  job = undefined;
  reply(message);
}

const sources = new Socket({
  fd: SOURCE_FD,
  readable: true,
  writable: false,
  onread: { buffer: nextReadBuffer, callback: onRead },
});
sources.on('error', () => process.exit(1));

process.on('message', (request: TransformRequest) => {
  const arrivedCpu = cpuMs();
  job = {
    request,
    buffer: sourceBuffer(request.length),
    filled: 0,
    arrivedAt: performance.now(),
    arrivedCpu,
    betweenCpuMs: arrivedCpu - lastPipelineEnd,
  };
  if (request.length === 0) {
    run(job);
    return;
  }
  for (const chunk of early.splice(0)) take(chunk);
});

process.on('disconnect', () => process.exit(0));
