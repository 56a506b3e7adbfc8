import type { FastifyInstance } from 'fastify';

/**
 * Makes an admin route's scope parse small JSON bodies only, whatever parsers the parent app
 * keeps (the optimizer itself ignores request bodies): a body that is not valid JSON becomes
 * undefined (the route answers 400), any other type is drained and ignored.
 */
export function parseJsonBodiesOnly(app: FastifyInstance, bodyLimit: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'string', bodyLimit },
    (_request, text, done) => {
      try {
        done(null, JSON.parse(String(text)));
      } catch {
        done(null, undefined);
      }
    },
  );
  app.addContentTypeParser('*', (_request, payload, done) => {
    payload.resume();
    done(null);
  });
}
