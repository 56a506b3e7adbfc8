/**
 * Messages between the process pool and its transform children. With Node's "advanced"
 * IPC serialization a Buffer arrives as a plain Uint8Array, hence the wider types.
 */
import type { OptimizeOptions } from './transform.ts';

/**
 * Parent → child: transform this. The source's bytes do not travel in the message: the
 * parent writes them, `length` of them, to the child's SOURCE_FD pipe right after it.
 * Through the IPC channel they would be serialized, copied and garbage-collected on both
 * sides (measured: a third of the main thread's time on misses of multi-MB sources).
 */
export interface TransformRequest {
  id: number;
  options: Omit<OptimizeOptions, 'buffer'>;
  length: number;
}

/** The child's file descriptor on which the sources arrive (stdio index after 'ipc'). */
export const SOURCE_FD = 4;

/** Wall-clock and CPU milliseconds of one stage; CPU counts every thread of the child. */
export interface StageTime {
  wallMs: number;
  cpuMs: number;
}

/**
 * What a child measured of one job. A child runs one job at a time, so its process CPU
 * (libvips and libuv threads included) between two instants is that job's CPU.
 */
export interface TransformTimings {
  /** From the job's message to its last source byte: waiting on and copying from the pipe. */
  receive: StageTime;
  /** The sharp pipeline, decode + resize + encode: libvips runs them as one, interleaved. */
  sharp: StageTime;
  /**
   * CPU only: from the end of the previous job's pipeline to this job's message — the
   * previous reply's serialization, GC, this message's parse, bytes that came early.
   */
  betweenCpuMs: number;
}

/** Child → parent: the result of request `id`. */
export type TransformReply =
  | { id: number; ok: true; buffer: Uint8Array; timings: TransformTimings }
  | { id: number; ok: false; message: string };
