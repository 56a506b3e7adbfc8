/**
 * Messages between the process pool and its transform children. With Node's "advanced"
 * IPC serialization a Buffer arrives as a plain Uint8Array, hence the wider types.
 */
import type { OptimizeOptions } from './transform.ts';

/** Parent → child: transform this. */
export interface TransformRequest {
  id: number;
  options: Omit<OptimizeOptions, 'buffer'> & { buffer: Uint8Array };
}

/** Child → parent: the result of request `id`. */
export type TransformReply =
  | { id: number; ok: true; buffer: Uint8Array }
  | { id: number; ok: false; message: string };
