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

/** Child → parent: the result of request `id`. */
export type TransformReply =
  | { id: number; ok: true; buffer: Uint8Array }
  | { id: number; ok: false; message: string };
