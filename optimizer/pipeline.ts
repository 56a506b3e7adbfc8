import type { ImagesConfig } from '../api/images-config.ts';
import type { Discovery } from '../lib/discovery.ts';
import type { Logger } from '../lib/logger.ts';
import { type AdmissionPlan, decodeBytes, headIsConclusive, planAdmission } from './admission.ts';
import { hash } from './cache-key.ts';
import { ImageError, JobTimeoutError, MESSAGES, QueueFullError } from './errors.ts';
import {
  fetchWithRetries,
  type HeadRule,
  openExternalImage,
  openInternalImage,
  readUpstreamSource,
  type UpstreamSource,
} from './fetch/index.ts';
import {
  type Admission,
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

/** The first bytes read before admission: enough for any header we parse, in practice. */
export const HEAD_MAX_BYTES = 256 * 1024;

const HEAD_RULE: HeadRule = { isEnough: headIsConclusive, maxBytes: HEAD_MAX_BYTES };

/** Opens the source (headers and first bytes) with retries inside the job's budget. */
async function openSource(
  params: ImageParams,
  deps: PipelineDeps,
  signal: AbortSignal,
): Promise<UpstreamSource> {
  const source = params.isAbsolute ? 'external' : 'internal';
  return await fetchWithRetries<UpstreamSource>(
    (attemptSignal) => {
      deps.metrics.fetchAttempts.inc({ source });
      return params.isAbsolute
        ? openExternalImage(
            params.href,
            {
              maximumResponseBody: deps.images.maximumResponseBody,
              maximumRedirects: deps.images.maximumRedirects,
              dangerouslyAllowLocalIP: deps.images.dangerouslyAllowLocalIP,
              signal: attemptSignal,
            },
            HEAD_RULE,
          )
        : openInternalImage(
            params.href,
            {
              fallback: deps.fallback,
              discovery: deps.discovery,
              maximumResponseBody: deps.images.maximumResponseBody,
              signal: attemptSignal,
            },
            HEAD_RULE,
          );
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
}

/** Downloads the rest of an admitted source within one attempt's timeout and the job's budget. */
async function readSource(
  opened: UpstreamSource,
  deps: PipelineDeps,
  signal: AbortSignal,
): Promise<UpstreamImage> {
  const timer = new AbortController();
  const timeout = setTimeout(() => {
    timer.abort(new DOMException('source download timed out', 'TimeoutError'));
  }, deps.attemptTimeoutMs);
  try {
    const upstream = await readUpstreamSource(opened, AbortSignal.any([signal, timer.signal]));
    deps.metrics.bytesIn.inc(upstream.buffer.byteLength);
    return upstream;
  } finally {
    clearTimeout(timeout);
  }
}

/**
 * Opens the source, admits the job against the memory budget from its first bytes (waiting in
 * the queue, or shed with 503 while nothing but the head was downloaded), then downloads it.
 * The caller releases the admission when the job ends.
 */
async function fetchAdmitted(
  params: ImageParams,
  deps: PipelineDeps,
  signal: AbortSignal,
): Promise<{ upstream: UpstreamImage; plan: AdmissionPlan; admission: Admission }> {
  const source = params.isAbsolute ? 'external' : 'internal';
  const started = performance.now();
  let outcome = 'ok';
  try {
    const opened = await openSource(params, deps, signal);
    const limit = deps.images.maximumResponseBody;
    const plan = planAdmission({
      head: opened.head,
      sourceBytes: opened.complete ? opened.head.length : (opened.declaredLength ?? limit),
      budgetBytes: deps.queue.budgetBytes,
      maxInputPixels: deps.maxInputPixels,
    });
    let admission: Admission;
    const waitStarted = performance.now();
    try {
      admission = await deps.queue.admit(plan.bytes, signal);
    } catch (error: unknown) {
      opened.discard();
      throw error;
    }
    const waited = performance.now() - waitStarted;
    try {
      const upstream = await readSource(opened, deps, signal);
      deps.metrics.fetchDuration.observe(
        { source, outcome },
        (performance.now() - started - waited) / 1000,
      );
      return { upstream, plan, admission };
    } catch (error: unknown) {
      admission.release();
      throw error;
    }
  } catch (error: unknown) {
    outcome = 'error';
    deps.metrics.fetchDuration.observe({ source, outcome }, (performance.now() - started) / 1000);
    throw error;
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
 * transform (bounded queue) → on any transform failure, the original bytes. The fetch is
 * admitted against the memory budget from the source's first bytes (fetchAdmitted).
 * `previous` is the stale entry being revalidated, reused when the upstream did not change.
 */
async function runJob(
  params: ImageParams,
  deps: PipelineDeps,
  signal: AbortSignal,
  previous?: CachedImage,
): Promise<ImageEntry> {
  const { upstream, plan, admission } = await fetchAdmitted(params, deps, signal);
  try {
    return await runAdmittedJob(params, deps, signal, { upstream, plan, admission }, previous);
  } finally {
    admission.release();
  }
}

/** What fetchAdmitted hands the rest of the job. */
interface Admitted {
  upstream: UpstreamImage;
  plan: AdmissionPlan;
  admission: Admission;
}

async function runAdmittedJob(
  params: ImageParams,
  deps: PipelineDeps,
  signal: AbortSignal,
  { upstream, plan, admission }: Admitted,
  previous?: CachedImage,
): Promise<ImageEntry> {
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
  const bytes = upstream.buffer.length;
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
