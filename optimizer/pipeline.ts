import type { ImagesConfig } from '../api/images-config.ts';
import type { Discovery } from '../lib/discovery.ts';
import type { Logger } from '../lib/logger.ts';
import type { StageTimings } from './access-log.ts';
import { type AdmissionPlan, decodeBytes } from './admission.ts';
import { hash } from './cache-key.ts';
import { ImageError, JobTimeoutError, MESSAGES, QueueFullError } from './errors.ts';
import {
  animationVerdict,
  BYPASS_TYPES,
  type Dimensions,
  decoderWorkingSet,
  detectContentType,
  extensionFor,
  isAnimated,
  type OptimizeOptions,
  outputType,
  readDimensions,
  type TransformQueue,
} from './image/index.ts';
import { remainingSeconds } from './job-budget.ts';
import type { OptimizerMetrics } from './metrics.ts';
import { maxAgeFromCacheControl } from './response-headers.ts';
import { type AdmittedSource, fetchAdmitted } from './source.ts';
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
  timings?: StageTimings,
): Promise<ImageEntry> {
  deps.metrics.inFlightJobs.inc();
  try {
    return await runJob(params, deps, signal, previous, timings);
  } finally {
    deps.metrics.inFlightJobs.dec();
  }
}

/**
 * Next.js 16's imageOptimizer: fetch → detect type from magic bytes → bypass/animated →
 * transform (bounded queue) → on any transform failure, the original bytes. The fetch is
 * admitted against the memory budget from the source's first bytes (fetchAdmitted).
 * `previous` is the stale entry being revalidated, reused when the upstream did not change.
 */
async function runJob(
  params: ImageParams,
  deps: PipelineDeps,
  signal: AbortSignal,
  previous?: CachedImage,
  timings?: StageTimings,
): Promise<ImageEntry> {
  const admitted = await fetchAdmitted(params, deps, signal, timings);
  try {
    return await runAdmittedJob(params, deps, signal, admitted, previous, timings);
  } finally {
    admitted.admission.release();
  }
}

async function runAdmittedJob(
  params: ImageParams,
  deps: PipelineDeps,
  signal: AbortSignal,
  { upstream, plan, admission }: AdmittedSource,
  previous?: CachedImage,
  timings?: StageTimings,
): Promise<ImageEntry> {
  // The head (at least the image header) answers the checks below without joining the body:
  // a transform sends the chunks as they arrived, so a miss never copies its whole source.
  const size = upstream.length ?? upstream.buffer.length;
  const partialHead =
    upstream.head !== undefined && upstream.head.length < size && upstream.head.length >= 4096;
  const head = partialHead ? (upstream.head as Buffer) : upstream.buffer;
  const upstreamType = detectContentType(head);
  if (!upstreamType?.startsWith('image/') || upstreamType.includes(',')) {
    throw new ImageError(400, MESSAGES.notValidImage, 'NOT_AN_IMAGE');
  }
  if (upstreamType.startsWith('image/svg') && !deps.images.dangerouslyAllowSVG) {
    throw new ImageError(400, MESSAGES.typeNotAllowed, 'SVG_NOT_ALLOWED');
  }
  const maxAge = Math.max(params.minimumCacheTTL, maxAgeFromCacheControl(upstream.cacheControl));
  const upstreamEtag = upstream.etag
    ? Buffer.from(upstream.etag).toString('base64url')
    : hash(upstream.chunks ?? [upstream.buffer]);

  const animated =
    animationVerdict(head, upstreamType) ?? isAnimated(upstream.buffer, upstreamType);
  if (BYPASS_TYPES.has(upstreamType) || animated) {
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
  const dims =
    (await readDimensions(head, upstreamType).catch(() => undefined)) ??
    (partialHead
      ? await readDimensions(upstream.buffer, upstreamType).catch(() => undefined)
      : undefined);
  const bytes = size;
  const refusal = decodeRefusal(dims, plan, bytes, deps);
  if (refusal === undefined && !admission.resize(decodeNeed(dims, plan, bytes))) {
    // Only a type sized after its download (TIFF…) grows here; it does not wait for memory.
    throw new QueueFullError(deps.queue.retryAfterSeconds(), 'memory');
  }
  if (refusal !== undefined) {
    // Never decoded; like any sharp failure (Next), the original bytes are served.
    deps.logger.info(
      { href: params.href, ...dims, reason: refusal },
      refusal === 'pixels'
        ? 'source exceeds maxInputPixels; serving it untransformed'
        : 'decoding the source would pass the memory budget; serving it untransformed',
    );
    deps.metrics.decodesRefused.inc({ reason: refusal });
    deps.metrics.transforms.inc({ outcome: 'fallback' });
    return original(upstream, upstreamType, params.minimumCacheTTL, upstreamEtag);
  }
  const started = performance.now();
  let slotAt: number | undefined;
  try {
    const buffer = await deps.queue.run(() => {
      slotAt = performance.now();
      if (signal.aborted) throw signal.reason;
      const remaining = remainingSeconds(signal);
      return deps.transform(
        {
          buffer: upstream.chunks ?? upstream.buffer,
          contentType,
          width: params.width,
          quality: params.quality,
          timeoutSeconds: Math.max(1, Math.min(deps.transformTimeoutSeconds, remaining)),
          maxInputPixels: deps.maxInputPixels,
        },
        signal,
      );
    }, signal);
    if (timings !== undefined && slotAt !== undefined) {
      timings.queueMs = (timings.queueMs ?? 0) + (slotAt - started);
      timings.transformMs = performance.now() - slotAt;
    }
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

/** Why a downloaded source is served untransformed without a decode, or undefined. */
function decodeRefusal(
  dims: Dimensions | undefined,
  plan: AdmissionPlan,
  sourceBytes: number,
  deps: PipelineDeps,
): 'pixels' | 'memory' | undefined {
  if (dims !== undefined && dims.width * dims.height > deps.maxInputPixels) return 'pixels';
  if (plan.decode === 'over-budget') return 'memory';
  if (decodeNeed(dims, plan, sourceBytes) > deps.queue.budgetBytes) return 'memory';
  return undefined;
}

/** Bytes a decode of the downloaded source holds, from its header (or, without, its size). */
function decodeNeed(
  dims: Dimensions | undefined,
  plan: AdmissionPlan,
  sourceBytes: number,
): number {
  if (plan.header !== undefined) return decodeBytes(sourceBytes, decoderWorkingSet(plan.header));
  // No header parser for the type: a frame of 4 bands of 8 bits, as libvips decodes most.
  const frame = dims === undefined ? 0 : dims.width * dims.height * 4;
  return decodeBytes(sourceBytes, frame);
}
