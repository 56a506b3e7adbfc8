import type { ImagesConfig } from '../api/images-config.ts';
import type { Discovery } from '../lib/discovery.ts';
import type { Logger } from '../lib/logger.ts';
import { hash } from './cache-key.ts';
import { ImageError, JobTimeoutError, MESSAGES } from './errors.ts';
import { fetchExternalImage, fetchInternalImage, fetchWithRetries } from './fetch/index.ts';
import {
  BYPASS_TYPES,
  detectContentType,
  extensionFor,
  isAnimated,
  type OptimizeOptions,
  outputType,
  readDimensions,
  type TransformQueue,
} from './image/index.ts';
import type { OptimizerMetrics } from './metrics.ts';
import { maxAgeFromCacheControl } from './response-headers.ts';
import type { CachedImage, ImageEntry, ImageParams, UpstreamImage } from './types.ts';

/** Everything producing an image needs, fixed at start-up. */
export interface PipelineDeps {
  images: ImagesConfig;
  /** Base of relative sources: `http://<fallback>.plt.local` or an http(s) URL. */
  fallback: URL;
  discovery: Discovery;
  maxAttempts: number;
  attemptTimeoutMs: number;
  transformTimeoutSeconds: number;
  maxInputPixels: number;
  queue: TransformQueue;
  /** Runs one transform (in-process or in a killable child); `signal` is the job's budget. */
  transform: (options: OptimizeOptions, signal: AbortSignal) => Promise<Buffer>;
  metrics: OptimizerMetrics;
  logger: Logger;
}

/** Fetches the source with retries inside the job's budget. */
async function fetchSource(
  params: ImageParams,
  deps: PipelineDeps,
  signal: AbortSignal,
): Promise<UpstreamImage> {
  const source = params.isAbsolute ? 'external' : 'internal';
  const started = performance.now();
  let outcome = 'ok';
  try {
    const upstream = await fetchWithRetries(
      (attemptSignal) => {
        deps.metrics.fetchAttempts.inc({ source });
        return params.isAbsolute
          ? fetchExternalImage(params.href, {
              maximumResponseBody: deps.images.maximumResponseBody,
              maximumRedirects: deps.images.maximumRedirects,
              dangerouslyAllowLocalIP: deps.images.dangerouslyAllowLocalIP,
              signal: attemptSignal,
            })
          : fetchInternalImage(params.href, {
              fallback: deps.fallback,
              discovery: deps.discovery,
              maximumResponseBody: deps.images.maximumResponseBody,
              signal: attemptSignal,
            });
      },
      {
        maxAttempts: deps.maxAttempts,
        signal,
        attemptTimeoutMs: deps.attemptTimeoutMs,
        deadline: deadlines.get(signal),
        onRetry: ({ attempt, error, delayMs }) => {
          deps.metrics.retries.inc({ source });
          deps.logger.warn(
            { href: params.href, attempt, delayMs, err: error },
            'retrying source fetch',
          );
        },
      },
    );
    deps.metrics.bytesIn.inc(upstream.buffer.byteLength);
    return upstream;
  } catch (error: unknown) {
    outcome = 'error';
    throw error;
  } finally {
    deps.metrics.fetchDuration.observe({ source, outcome }, (performance.now() - started) / 1000);
  }
}

/** The unchanged upstream bytes as an entry (bypass types, animations, transform failures). */
function original(
  upstream: UpstreamImage,
  type: string,
  maxAge: number,
  upstreamEtag: string,
): ImageEntry {
  return {
    buffer: upstream.buffer,
    extension: extensionFor(type) ?? 'bin',
    etag: upstreamEtag,
    upstreamEtag,
    maxAge,
  };
}

/**
 * One image job (a miss, or a background revalidation), counted in next_image_jobs_in_flight
 * while it runs. Counted here, around the work itself, so that callers waiting on another's
 * flight and cache hits never count, and a job outlives no count when it fails.
 */
export async function produceImage(
  params: ImageParams,
  deps: PipelineDeps,
  signal: AbortSignal,
  previous?: CachedImage,
): Promise<ImageEntry> {
  deps.metrics.inFlightJobs.inc();
  try {
    return await runJob(params, deps, signal, previous);
  } finally {
    deps.metrics.inFlightJobs.dec();
  }
}

/**
 * Next.js 16's imageOptimizer: fetch → detect type from magic bytes → bypass/animated →
 * transform (bounded queue) → on any transform failure, the original bytes.
 * `previous` is the stale entry being revalidated, reused when the upstream did not change.
 */
async function runJob(
  params: ImageParams,
  deps: PipelineDeps,
  signal: AbortSignal,
  previous?: CachedImage,
): Promise<ImageEntry> {
  const upstream = await fetchSource(params, deps, signal);
  const upstreamType = detectContentType(upstream.buffer);
  if (!upstreamType?.startsWith('image/') || upstreamType.includes(',')) {
    throw new ImageError(400, MESSAGES.notValidImage, 'NOT_AN_IMAGE');
  }
  if (upstreamType.startsWith('image/svg') && !deps.images.dangerouslyAllowSVG) {
    throw new ImageError(400, MESSAGES.typeNotAllowed, 'SVG_NOT_ALLOWED');
  }
  const maxAge = Math.max(params.minimumCacheTTL, maxAgeFromCacheControl(upstream.cacheControl));
  const upstreamEtag = upstream.etag
    ? Buffer.from(upstream.etag).toString('base64url')
    : hash([upstream.buffer]);

  if (BYPASS_TYPES.has(upstreamType) || isAnimated(upstream.buffer, upstreamType)) {
    deps.metrics.transforms.inc({ outcome: 'bypass' });
    return original(upstream, upstreamType, maxAge, upstreamEtag);
  }
  // Revalidation of an unchanged source: keep the optimized bytes, skip the encode.
  if (
    previous !== undefined &&
    previous.upstreamEtag === upstreamEtag &&
    previous.etag !== previous.upstreamEtag
  ) {
    return {
      buffer: previous.buffer,
      extension: previous.extension,
      etag: previous.etag,
      upstreamEtag,
      maxAge,
    };
  }

  const contentType = outputType(upstreamType, params.mimeType);
  const dims = await readDimensions(upstream.buffer, upstreamType).catch(() => undefined);
  if (dims !== undefined && dims.width * dims.height > deps.maxInputPixels) {
    // A pixel bomb is never decoded; like any sharp failure, the original bytes are served.
    deps.logger.info(
      { href: params.href, ...dims },
      'source exceeds maxInputPixels; serving it untransformed',
    );
    deps.metrics.transforms.inc({ outcome: 'fallback' });
    return original(upstream, upstreamType, params.minimumCacheTTL, upstreamEtag);
  }
  const started = performance.now();
  try {
    const buffer = await deps.queue.run(() => {
      if (signal.aborted) throw signal.reason;
      const remaining = remainingSeconds(signal);
      return deps.transform(
        {
          buffer: upstream.buffer,
          contentType,
          width: params.width,
          quality: params.quality,
          timeoutSeconds: Math.max(1, Math.min(deps.transformTimeoutSeconds, remaining)),
          maxInputPixels: deps.maxInputPixels,
        },
        signal,
      );
    }, signal);
    deps.metrics.transformDuration.observe(
      { format: extensionFor(contentType) ?? 'other' },
      (performance.now() - started) / 1000,
    );
    deps.metrics.transforms.inc({ outcome: 'optimized' });
    return {
      buffer,
      extension: extensionFor(contentType) ?? 'bin',
      etag: hash([buffer]),
      upstreamEtag,
      maxAge,
    };
  } catch (error: unknown) {
    if (signal.aborted) throw new JobTimeoutError({ cause: error });
    if (error instanceof ImageError) throw error; // queue full → 503
    deps.logger.warn(
      { href: params.href, err: error },
      'transform failed; serving the original bytes',
    );
    deps.metrics.transforms.inc({ outcome: 'fallback' });
    return original(upstream, upstreamType, params.minimumCacheTTL, upstreamEtag);
  }
}

// Jobs carry their deadline on the signal so nested steps can size their own timeouts.
const deadlines = new WeakMap<AbortSignal, number>();

/** A signal that aborts after `ms`, with its deadline known to remainingSeconds(). */
export function budgetSignal(ms: number): AbortSignal {
  const signal = AbortSignal.timeout(ms);
  deadlines.set(signal, Date.now() + ms);
  return signal;
}

function remainingSeconds(signal: AbortSignal): number {
  const deadline = deadlines.get(signal);
  return deadline === undefined
    ? Number.POSITIVE_INFINITY
    : Math.ceil((deadline - Date.now()) / 1000);
}
