/**
 * Transforms in child processes that can be killed. sharp's timeout is checked only
 * between the strips libvips computes; work after the last strip (mozjpeg's final pass,
 * the AVIF encoder, PNG palette quantisation) or inside one strip (an SVG filter) runs
 * to the end whatever the timeout — measured at up to 116 s with timeout 1. Killing
 * the process is the only way to get that CPU back, and a libvips crash then costs one
 * child, not the server.
 */
import { type ChildProcess, fork } from 'node:child_process';
import type { Writable } from 'node:stream';
import { TransformError } from './errors.ts';
import type { OptimizeOptions } from './transform.ts';
import {
  SOURCE_FD,
  type TransformReply,
  type TransformRequest,
  type TransformTimings,
} from './worker-protocol.ts';

/** A job's stage timings as its child measured them, plus the parent's round trip. */
export interface JobTimings extends TransformTimings {
  /** Wall ms from handing the job to the child to its reply, as the parent saw it. */
  roundTripMs: number;
}

/** Sizes and limits of the pool. */
export interface TransformProcessPoolOptions {
  /** Child processes, i.e. transforms at once; match the TransformQueue's concurrency. */
  size: number;
  /** Seconds past `timeoutSeconds` before a child is killed: sharp gets the first chance. */
  killGraceSeconds?: number;
  /** Called with each successful job's stage timings (metrics, the bench's breakdown). */
  onTimings?: (timings: JobTimings) => void;
}

interface Job {
  id: number;
  resolve: (buffer: Buffer) => void;
  reject: (error: TransformError) => void;
  timer: NodeJS.Timeout;
  sentAt: number;
}

interface Worker {
  child: ChildProcess;
  job: Job | undefined;
}

interface Pending {
  options: OptimizeOptions;
  resolve: (buffer: Buffer) => void;
  reject: (error: TransformError) => void;
}

// Built output is .js beside .js; sources run as .ts beside .ts.
const WORKER_URL = new URL(
  import.meta.url.endsWith('.ts') ? './transform-worker.ts' : './transform-worker.js',
  import.meta.url,
);

const DEFAULT_KILL_GRACE_SECONDS = 1;

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A fixed-size pool of transform processes; each runs one optimizeImage at a time. */
export class TransformProcessPool {
  readonly #size: number;
  readonly #graceSeconds: number;
  readonly #onTimings: ((timings: JobTimings) => void) | undefined;
  readonly #workers = new Set<Worker>();
  readonly #idle: Worker[] = [];
  readonly #pending: Pending[] = [];
  #nextId = 0;
  #closed = false;

  constructor(options: TransformProcessPoolOptions) {
    if (!Number.isInteger(options.size) || options.size < 1) {
      throw new RangeError(
        `TransformProcessPool: size must be an integer >= 1, got ${options.size}`,
      );
    }
    this.#size = options.size;
    this.#graceSeconds = options.killGraceSeconds ?? DEFAULT_KILL_GRACE_SECONDS;
    this.#onTimings = options.onTimings;
  }

  /** Child processes alive now (idle or busy). */
  get processes(): number {
    return this.#workers.size;
  }

  /**
   * optimizeImage in a child; killed `killGraceSeconds` after its timeout, TRANSFORM_FAILED.
   * When `signal` aborts (the job's budget ran out), the child is killed at once.
   */
  transform(options: OptimizeOptions, signal?: AbortSignal): Promise<Buffer> {
    if (this.#closed) return Promise.reject(new TransformError('the transform pool is closed'));
    if (signal?.aborted) return Promise.reject(new TransformError('the job was cancelled'));
    return new Promise<Buffer>((resolve, reject) => {
      const pending: Pending = { options, resolve, reject };
      const onAbort = (): void => this.#cancel(pending);
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = (): void => signal?.removeEventListener('abort', onAbort);
      pending.resolve = (buffer) => {
        done();
        resolve(buffer);
      };
      pending.reject = (error) => {
        done();
        reject(error);
      };
      this.#pending.push(pending);
      this.#dispatch();
    });
  }

  /** Drops a job that has not started, or kills the child running it. */
  #cancel(pending: Pending): void {
    const waiting = this.#pending.indexOf(pending);
    if (waiting !== -1) {
      this.#pending.splice(waiting, 1);
      pending.reject(new TransformError('the job was cancelled'));
      return;
    }
    for (const worker of this.#workers) {
      if (worker.job?.reject === pending.reject) {
        this.#fail(worker, new TransformError('the job was cancelled; transform killed'));
        return;
      }
    }
  }

  /** Kills every child and fails whatever has not finished. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const pending of this.#pending.splice(0)) {
      pending.reject(new TransformError('the transform pool is closed'));
    }
    const exits = [...this.#workers].map(
      (worker) =>
        new Promise<void>((resolve) => {
          if (worker.child.exitCode !== null || worker.child.signalCode !== null) resolve();
          else worker.child.once('exit', () => resolve());
          worker.child.ref(); // unref'd children would let the process exit before 'exit'
          worker.child.kill('SIGKILL');
        }),
    );
    await Promise.all(exits);
  }

  #dispatch(): void {
    while (this.#pending.length > 0 && !this.#closed) {
      const worker =
        this.#idle.pop() ?? (this.#workers.size < this.#size ? this.#spawn() : undefined);
      if (worker === undefined) return;
      this.#assign(worker, this.#pending.shift()!);
    }
  }

  #spawn(): Worker {
    const child = fork(WORKER_URL, [], {
      execPath: process.execPath,
      // --expose-gc: an idle child collects the source buffer it kept (transform-worker.ts).
      execArgv: ['--expose-gc'],
      serialization: 'advanced',
      // fd SOURCE_FD (4): the sources, raw bytes (worker-protocol.ts).
      stdio: ['ignore', 'inherit', 'inherit', 'ipc', 'pipe'],
    });
    const worker: Worker = { child, job: undefined };
    // A child that dies mid-write fails its job through 'exit'; the EPIPE is not news.
    const sources = this.#sourcesOf(worker);
    sources.on('error', () => undefined);
    (sources as Writable & { unref?: () => void }).unref?.();
    child.on('message', (reply: TransformReply) => this.#onReply(worker, reply));
    child.on('exit', (code, signal) => this.#onExit(worker, `${signal ?? code}`));
    child.on('error', (error) =>
      this.#fail(worker, new TransformError(error.message, { cause: error })),
    );
    // Idle children must not keep the server alive; a job in flight holds its timer.
    child.unref();
    child.channel?.unref();
    this.#workers.add(worker);
    return worker;
  }

  #assign(worker: Worker, pending: Pending): void {
    const id = ++this.#nextId;
    const { options } = pending;
    const seconds = Math.max(0, Math.ceil(options.timeoutSeconds)) + this.#graceSeconds;
    const timer = setTimeout(() => {
      this.#fail(worker, new TransformError(`transform killed after ${seconds} s`));
    }, seconds * 1000);
    const sentAt = performance.now();
    worker.job = { id, resolve: pending.resolve, reject: pending.reject, timer, sentAt };
    const { buffer, ...rest } = options;
    const chunks: readonly Buffer[] = Array.isArray(buffer) ? buffer : [buffer as Buffer];
    const length = chunks.reduce((sum, c) => sum + c.length, 0);
    const request: TransformRequest = { id, options: rest, length };
    worker.child.send(request, (error) => {
      if (error) this.#fail(worker, new TransformError(error.message, { cause: error }));
    });
    // The chunks as they arrived: the child reads them into one buffer of its own, so the
    // main process never joins a source (a fresh multi-megabyte allocation per miss).
    const sources = this.#sourcesOf(worker);
    sources.cork(); // one writev for all of them
    for (const chunk of chunks) if (chunk.length > 0) sources.write(chunk);
    sources.uncork();
  }

  #sourcesOf(worker: Worker): Writable {
    const stream = worker.child.stdio[SOURCE_FD];
    if (stream === null || stream === undefined || !('write' in stream))
      throw new TransformError('transform process has no source pipe');
    return stream as Writable;
  }

  #onReply(worker: Worker, reply: TransformReply): void {
    const job = worker.job;
    if (job === undefined || job.id !== reply.id) return;
    clearTimeout(job.timer);
    worker.job = undefined;
    if (reply.ok) {
      this.#onTimings?.({ ...reply.timings, roundTripMs: performance.now() - job.sentAt });
      job.resolve(asBuffer(reply.buffer));
    } else job.reject(new TransformError(reply.message));
    this.#idle.push(worker);
    this.#dispatch();
  }

  /** Fails the worker's job at once and kills it; its slot frees when it has exited. */
  #fail(worker: Worker, error: TransformError): void {
    const job = worker.job;
    if (job !== undefined) {
      clearTimeout(job.timer);
      worker.job = undefined;
      job.reject(error);
    }
    const idleAt = this.#idle.indexOf(worker);
    if (idleAt !== -1) this.#idle.splice(idleAt, 1);
    worker.child.kill('SIGKILL');
  }

  #onExit(worker: Worker, how: string): void {
    this.#fail(worker, new TransformError(`transform process exited (${how})`));
    this.#workers.delete(worker);
    this.#dispatch();
  }
}
