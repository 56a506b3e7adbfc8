import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import { parseJsonBodiesOnly } from './admin-body.ts';
import { RETRY_AFTER_SECONDS } from './retry-after.ts';
import { StorageUnavailableError } from './storage/errors.ts';
import { purgeRequestsCounter } from './storage/metrics.ts';
import type { ImageStore } from './storage/types.ts';

/** Where the purge endpoint listens (on the optimizer's port; the gateway never routes it). */
export const PURGE_PATH = '/__admin/purge';

export interface PurgeRouteOptions {
  store: Pick<ImageStore, 'purge'>;
  /** Bearer token from `optimizer.purgeToken`; without one the endpoint does not exist (404). */
  token: string | undefined;
  /** Registry for `next_image_purge_requests_total{result}`. */
  registry?: Registry;
}

/**
 * The cache key's `href` for a source url, as Next.js builds it: a relative url verbatim, an
 * absolute one normalized by URL. Undefined when it is neither.
 */
export function purgeHref(url: string): string | undefined {
  if (url.startsWith('/') && !url.startsWith('//')) return url;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : undefined;
  } catch {
    return undefined;
  }
}

/** Compares in constant time (hashing first, so the length does not leak either). */
export function sameToken(given: string, expected: string): boolean {
  const digest = (value: string): Buffer => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** The token of an `Authorization: Bearer <token>` header. */
export function bearer(request: FastifyRequest): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
  return match?.[1];
}

/** The source url from `?url=` or a JSON body `{"url": ...}`. */
function sourceUrl(request: FastifyRequest): string | undefined {
  const fromQuery = (request.query as Record<string, unknown> | undefined)?.url;
  if (typeof fromQuery === 'string') return fromQuery;
  const body = request.body;
  if (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as { url?: unknown }).url === 'string'
  ) {
    return (body as { url: string }).url;
  }
  return undefined;
}

/**
 * `POST|DELETE /__admin/purge?url=<source>` (or a JSON body `{"url": "<source>"}`) with
 * `Authorization: Bearer <token>`: removes every width, quality and format of one source url
 * from every tier on every replica. 200 `{url, purged}`; 400 without a usable url; 401 on a
 * missing or wrong token; 503 when the shared storage cannot be reached (retry).
 */
export const purgeRoute: FastifyPluginAsync<PurgeRouteOptions> = async (app, options) => {
  const { store, token } = options;
  if (token === undefined || token === '') return;
  const counter =
    options.registry === undefined ? undefined : purgeRequestsCounter(options.registry);
  const count = (result: string): void => counter?.inc({ result });
  parseJsonBodiesOnly(app, 16 * 1024);

  const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const given = bearer(request);
    if (given === undefined || !sameToken(given, token)) {
      count('unauthorized');
      return reply.code(401).header('WWW-Authenticate', 'Bearer realm="next-image purge"').send({
        error: 'Unauthorized',
        message: 'send Authorization: Bearer <optimizer.purgeToken>',
      });
    }
    const url = sourceUrl(request);
    const href = url === undefined ? undefined : purgeHref(url);
    if (href === undefined) {
      count('bad_request');
      return reply.code(400).send({
        error: 'Bad Request',
        message:
          'pass the source url as ?url=/path/img.png or https://host/img.png (or a JSON body {"url": ...})',
      });
    }
    try {
      const purged = await store.purge(href);
      count('ok');
      request.log.info({ href, purged }, 'purged a source url from the image cache');
      return reply.send({ url: href, purged });
    } catch (error: unknown) {
      if (!(error instanceof StorageUnavailableError)) throw error;
      count('unavailable');
      request.log.warn({ href, err: error.message }, 'purge could not reach the shared storage');
      return reply
        .code(503)
        .header('Retry-After', String(RETRY_AFTER_SECONDS.default))
        .send({ error: 'Service Unavailable', message: error.message });
    }
  };
  app.route({ method: ['POST', 'DELETE'], url: PURGE_PATH, handler });
};
