/**
 * Entry point of a transform child process (see process-pool.ts). It runs one
 * optimizeImage at a time for its parent and exits with it: a child that outlives the
 * server would keep CPUs busy for nobody. The job arrives on the IPC channel, its source's
 * bytes on the SOURCE_FD pipe, copied once into a buffer of the announced length.
 */
import { Socket } from 'node:net';
import { optimizeImage } from './transform.ts';
import { SOURCE_FD, type TransformReply, type TransformRequest } from './worker-protocol.ts';

function reply(message: TransformReply): void {
  process.send?.(message);
}

interface Job {
  request: TransformRequest;
  buffer: Buffer;
  filled: number;
}

let job: Job | undefined;
// Bytes that arrived before their job's message (two channels, no order between them).
const early: Buffer[] = [];

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
  optimizeImage({ ...options, buffer: current.buffer }).then(
    (buffer) => finish({ id, ok: true, buffer }),
    (error: unknown) =>
      finish({ id, ok: false, message: error instanceof Error ? error.message : String(error) }),
  );
}

function finish(message: TransformReply): void {
  job = undefined;
  reply(message);
}

const sources = new Socket({ fd: SOURCE_FD, readable: true, writable: false });
sources.on('data', (chunk: Buffer) => take(chunk));
sources.on('error', () => process.exit(1));

process.on('message', (request: TransformRequest) => {
  job = { request, buffer: Buffer.allocUnsafeSlow(request.length), filled: 0 };
  if (request.length === 0) {
    run(job);
    return;
  }
  for (const chunk of early.splice(0)) take(chunk);
});

process.on('disconnect', () => process.exit(0));
