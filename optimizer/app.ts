import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { LRUCache } from 'lru-cache';
import type { OptimizerConfig } from '../api/optimizer-config.ts';
import { Discovery } from '../lib/discovery.ts';
import { type Logger, quietRequestLogging } from '../lib/logger.ts';
import { releaseKeepAliveOnClose } from '../lib/server.ts';
import { type AccessRecord, accessFields, type StageTimings, serverTiming } from './access-log.ts';
import { cacheKey } from './cache-key.ts';
import { fallbackBase, memoryBudget } from './config.ts';
import { ImageError, MESSAGES, QueueFullError } from './errors.ts';
import { closeFetchAgents } from './fetch/index.ts';
import {
  contentTypeForExtension,
  defaultConcurrency,
  optimizeImage,
  TransformProcessPool,
  TransformQueue,
} from './image/index.ts';
import { ImageCache } from './image-cache.ts';
import { createMetrics, type OptimizerMetrics, observeTransformStages } from './metrics.ts';
import {
  createValidationContext,
  parseQuery,
  type ValidationContext,
  validateParams,
} from './params.ts';
import { type PipelineDeps, produceImage } from './pipeline.ts';
import { prewarmRoute } from './prewarm-route.ts';
import { purgeRoute } from './purge-route.ts';
import {
  cacheControl,
  contentDisposition,
  fileName,
  isCompressible,
  isFresh,
} from './response-headers.ts';
import { retryAfterOnUnavailable, shedWhileClosing } from './retry-after.ts';
import { createStore } from './storage/index.ts';
import type { ImageStore } from './storage/types.ts';
import type { CachedImage, ImageParams } from './types.ts';

const ALL_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;

/** Response header values derived from one cached entry. */
interface EntryHeaders {
  contentType: string;
  compressible: boolean;
  vary: string;
  cacheControl: string;
  disposition: string;
  gzipped?: Buffer;
}

type Validated = { params: ImageParams; key: string } | { errorMessage: string };

/** What buildOptimizerApp hands back besides the app: its parts, for tests and the server. */
export interface OptimizerApp {
  app: FastifyInstance;
  store: ImageStore;
  metrics: OptimizerMetrics;
}

/** An incoming `X-Request-Id` (as gateways and ingresses set), if short and plain; else a new one. */
function requestId(req: IncomingMessage): string {
  const header = req.headers['x-request-id'];
  return typeof header === 'string' && /^[\w.:@/+=-]{1,128}$/.test(header) ? header : randomUUID();
}

/** Next.js error responses: status, the exact message as a chunked body, no Content-Type. */
function sendError(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply.code(status).send(Readable.from([Buffer.from(message)]));
}

/**
 * Builds the optimizer's fastify app (never listens): `/_next/image` as Next.js 16 answers it,
 * plus /healthz, /readyz and /metrics.
 */
export function buildOptimizerApp(config: OptimizerConfig, logger: Logger): OptimizerApp {
  const io = config.next.imageOptimizer;
  const images = config.next.images;
  const tuning = config.optimizer;
  const concurrency = tuning.concurrency ?? defaultConcurrency();
  const pool =
    tuning.transformIsolation === 'process'
      ? new TransformProcessPool({
          size: concurrency,
          // Called only after a job, by which time `metrics` below exists.
          onTimings: (timings) => observeTransformStages(metrics, timings),
        })
      : undefined;
  const queue = new TransformQueue({
    concurrency,
    queueSize: tuning.queueSize,
    memoryBudgetBytes: memoryBudget(config),
  });
  const metrics = createMetrics(() => ({
    depth: queue.depth + queue.memoryDepth,
    running: queue.running,
    budgetBytes: queue.budgetBytes,
    admittedBytes: queue.admittedBytes,
  }));
  const store = createStore(io.storage, {
    memoryCacheBytes: tuning.memoryCacheBytes,
    logger,
    registry: metrics.registry,
  });
  const deps: PipelineDeps = {
    images,
    fallback: fallbackBase(io.fallback),
    discovery: new Discovery(config.discovery),
    maxAttempts: io.maxAttempts,
    attemptTimeoutMs: tuning.fetchTimeoutMs,
    transformTimeoutSeconds: tuning.transformTimeoutSeconds,
    maxInputPixels: tuning.maxInputPixels,
    queue,
    transform: (options, signal) =>
      pool === undefined ? optimizeImage(options) : pool.transform(options, signal),
    metrics,
    logger,
  };
  const cache = new ImageCache({
    store,
    timeoutMs: io.timeout,
    minimumCacheTTL: images.minimumCacheTTL,
    logger,
  });
  const ctx: ValidationContext = createValidationContext(images);
  // Validation and the cache key are pure functions of the url and the negotiated type, and
  // hot images are asked for with the same few urls: memoize them (short urls only, bounded).
  const validations = new LRUCache<string, Validated>({ max: 4096 });
  function validate(url: string, accept: string | undefined): Validated {
    const memoKey = `${ctx.mimeFor(accept)}\n${url}`;
    let validated = validations.get(memoKey);
    if (validated === undefined) {
      const params = validateParams(parseQuery(url), ctx, accept);
      validated = 'errorMessage' in params ? params : { params, key: cacheKey(params) };
      if (url.length <= 512) validations.set(memoKey, validated);
    }
    return validated;
  }
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    ...quietRequestLogging(),
    // shedWhileClosing answers instead, with the Retry-After fastify's own 503 lacks.
    return503OnClosing: false,
    // A child logger per request costs more than serving a cache hit; failures are logged
    // with their url instead.
    childLoggerFactory: (parent) => parent,
    genReqId: requestId,
  });
  shedWhileClosing(app);
  retryAfterOnUnavailable(app);
  // Next.js answers any method and ignores request bodies; so do we (no 415 for odd types).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => {
    payload.resume();
    done(null);
  });

  app.route({
    method: [...ALL_METHODS],
    url: '/_next/image',
    onResponse: async (request, reply) => {
      const status = reply.statusCode;
      metrics.requests.inc({ status: String(status) });
      // The access line: the one log line of a request (fastify's own are off).
      const fields = accessFields(
        request.id,
        request.method,
        request.url,
        status,
        reply.getHeader('content-type'),
        reply.elapsedTime,
        records.get(request),
      );
      if (status >= 500) logger.error(fields, 'image request');
      else logger.info(fields, 'image request');
    },
    handler: async (request, reply) => {
      const record: AccessRecord = {};
      records.set(request, record);
      const validated = validate(request.url, request.headers.accept);
      if ('errorMessage' in validated) {
        record.bytes = Buffer.byteLength(validated.errorMessage);
        addServerTiming(reply, record);
        return sendError(reply, 400, validated.errorMessage);
      }
      const { params, key } = validated;
      const timings: StageTimings = {};
      // Only a miss waits, so only a miss pays for a timer.
      let waitSignal: AbortSignal | undefined;
      const wait = (): AbortSignal => {
        waitSignal ??= AbortSignal.timeout(io.timeout);
        return waitSignal;
      };
      try {
        const { entry, result } = await cache.get(
          key,
          params.href,
          (signal, previous) => produceImage(params, deps, signal, previous, timings),
          wait,
        );
        metrics.cache.inc({ result });
        record.cache = result;
        // Only a MISS ran the job for this request (a STALE's revalidation runs after it).
        if (result === 'MISS') record.timings = timings;
        return sendImage(request, reply, params, entry, result, record);
      } catch (error: unknown) {
        record.timings = timings;
        return sendFailure(reply, error, waitSignal?.aborted === true, record);
      }
    },
  });
  // Next.js redirects the trailing-slash form (trailingSlash: false).
  app.all('/_next/image/', async (request, reply) => {
    const index = request.url.indexOf('?');
    return reply.redirect(`/_next/image${index === -1 ? '' : request.url.slice(index)}`, 308);
  });

  // Admin: purge every variant of one source (disabled unless optimizer.purgeToken is set).
  app.register(purgeRoute, { store, token: tuning.purgeToken, registry: metrics.registry });
  // Admin: warm every variant of a list of sources in the background (same token as purge).
  app.register(prewarmRoute, { token: tuning.purgeToken, images });

  app.get('/healthz', async () => 'ok');
  app.get('/readyz', async (_request, reply) => {
    if (tuning.readyRequiresStorage && store.state() !== 'ok')
      return reply.code(503).send('storage unavailable');
    return 'ready';
  });
  app.get('/metrics', async (_request, reply) => {
    reply.header('Content-Type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  releaseKeepAliveOnClose(app);
  app.addHook('onClose', async () => {
    await store.close();
    await closeFetchAgents();
    await pool?.close();
  });

  /** Per request, what its access line reports beyond the reply itself. */
  const records = new WeakMap<FastifyRequest, AccessRecord>();
  function addServerTiming(reply: FastifyReply, record: AccessRecord): void {
    if (tuning.serverTiming) reply.header('Server-Timing', serverTiming(record, reply.elapsedTime));
  }

  // Header values of a cached entry never change: compute them once per entry, not per hit.
  const entryHeaders = new WeakMap<CachedImage, EntryHeaders>();
  function headersOf(params: ImageParams, entry: CachedImage): EntryHeaders {
    let headers = entryHeaders.get(entry);
    if (headers === undefined) {
      const contentType = contentTypeForExtension(entry.extension) ?? 'application/octet-stream';
      const compressible = isCompressible(contentType);
      headers = {
        contentType,
        compressible,
        vary: compressible ? 'Accept, Accept-Encoding' : 'Accept',
        cacheControl: cacheControl(params.isStatic, entry.maxAge),
        disposition: contentDisposition(
          images.contentDispositionType,
          fileName(params.href, contentType),
        ),
      };
      entryHeaders.set(entry, headers);
    }
    return headers;
  }

  function sendImage(
    request: FastifyRequest,
    reply: FastifyReply,
    params: ImageParams,
    entry: CachedImage,
    result: string,
    record: AccessRecord,
  ): FastifyReply {
    const headers = headersOf(params, entry);
    addServerTiming(reply, record);
    record.bytes = 0;
    reply.header('Vary', headers.vary);
    reply.header('Cache-Control', headers.cacheControl);
    reply.header('ETag', entry.etag);
    if (isFresh(request.headers as Record<string, string | undefined>, entry.etag))
      return reply.code(304).send();
    reply.header('Content-Type', headers.contentType);
    reply.header('Content-Disposition', headers.disposition);
    reply.header('Content-Security-Policy', images.contentSecurityPolicy);
    reply.header('X-Nextjs-Cache', result);
    let body = entry.buffer;
    if (
      headers.compressible &&
      body.byteLength >= 1024 &&
      /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''))
    ) {
      headers.gzipped ??= gzipSync(body);
      body = headers.gzipped;
      reply.header('Content-Encoding', 'gzip');
    }
    reply.header('Content-Length', body.byteLength);
    if (request.method !== 'HEAD') {
      metrics.bytesOut.inc(body.byteLength);
      record.bytes = body.byteLength;
    }
    return reply.send(body);
  }

  function sendFailure(
    reply: FastifyReply,
    error: unknown,
    waitTimedOut: boolean,
    record: AccessRecord,
  ): FastifyReply {
    addServerTiming(reply, record);
    const fail = (status: number, message: string): FastifyReply => {
      record.bytes = Buffer.byteLength(message);
      return sendError(reply, status, message);
    };
    if (error instanceof QueueFullError) {
      metrics.shed.inc({ reason: error.reason });
      reply.header('Retry-After', String(error.retryAfterSeconds));
      return fail(503, error.message);
    }
    if (error instanceof ImageError) return fail(error.statusCode, error.message);
    if (waitTimedOut) return fail(504, MESSAGES.upstreamTimeout);
    // Unexpected: the access line (at error) carries it.
    record.err = error;
    return fail(500, 'Internal Server Error');
  }

  return { app, store, metrics };
}
