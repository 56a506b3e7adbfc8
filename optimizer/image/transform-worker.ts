/**
 * Entry point of a transform child process (see process-pool.ts). It runs one
 * optimizeImage at a time for its parent and exits with it: a child that outlives the
 * server would keep CPUs busy for nobody.
 */
import { optimizeImage } from './transform.ts';
import type { TransformReply, TransformRequest } from './worker-protocol.ts';

function reply(message: TransformReply): void {
  process.send?.(message);
}

process.on('message', (request: TransformRequest) => {
  const options = { ...request.options, buffer: Buffer.from(request.options.buffer) };
  optimizeImage(options).then(
    (buffer) => reply({ id: request.id, ok: true, buffer }),
    (error: unknown) =>
      reply({
        id: request.id,
        ok: false,
        message: error instanceof Error ? error.message : String(error),
      }),
  );
});

process.on('disconnect', () => process.exit(0));
