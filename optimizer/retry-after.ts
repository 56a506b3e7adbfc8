import type { FastifyInstance } from 'fastify';

/**
 * Retry-After on the optimizer's 429s and 503s (queue full, an upstream's 429 or 503 passed on,
 * storage down, shutting down), so that a client or proxy that honours it backs off instead of
 * asking again at once a replica that just said it cannot help. The values, in one place.
 */
export const RETRY_AFTER_SECONDS = {
  /** No estimate of our own: an upstream's 429/503 passed on, storage down. */
  default: 5,
  /** This replica is going away: retry at once, the load balancer picks another one. */
  shuttingDown: 1,
} as const;

/**
 * Gives every 429 and 503 the app sends a Retry-After, RETRY_AFTER_SECONDS.default unless the
 * route set its own (the transform queue's estimate). Call before routes are added.
 */
export function retryAfterOnUnavailable(app: FastifyInstance): void {
  // A callback hook, not an async one: it runs on every response, cache hits included.
  app.addHook('onSend', (_request, reply, payload, done) => {
    const status = reply.statusCode;
    if ((status === 429 || status === 503) && !reply.hasHeader('retry-after')) {
      reply.header('Retry-After', String(RETRY_AFTER_SECONDS.default));
    }
    done(null, payload);
  });
}

/**
 * Once the app starts closing, answers every new request 503 with Retry-After. This replaces
 * fastify's `return503OnClosing`, whose 503 is written before any hook and so cannot carry the
 * header: build the app with `return503OnClosing: false`. Call before routes are added.
 */
export function shedWhileClosing(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', (_request, reply, done) => {
    if (!closing) {
      done();
      return;
    }
    reply
      .code(503)
      .header('Retry-After', String(RETRY_AFTER_SECONDS.shuttingDown))
      .send('shutting down');
  });
}
