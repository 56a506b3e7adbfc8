/**
 * Fetching a job's source under the memory budget: open it (response headers and the first
 * bytes, with retries), admit the job from its image header, and only then download the body.
 * A job shed here has downloaded nothing but the header (docs/sizing.md).
 */
import type { StageTimings } from './access-log.ts';
import { type AdmissionPlan, headIsConclusive, planAdmission } from './admission.ts';
import { QueueFullError } from './errors.ts';
import {
  fetchWithRetries,
  type HeadRule,
  openExternalImage,
  openInternalImage,
  readUpstreamSource,
  type UpstreamSource,
} from './fetch/index.ts';
import type { Admission } from './image/index.ts';
import { deadlineOf } from './job-budget.ts';
import type { PipelineDeps } from './pipeline.ts';
import type { ImageParams, UpstreamImage } from './types.ts';

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
      deadline: deadlineOf(signal),
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
    deps.metrics.bytesIn.inc(upstream.length ?? upstream.buffer.byteLength);
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
export async function fetchAdmitted(
  params: ImageParams,
  deps: PipelineDeps,
  signal: AbortSignal,
  timings?: StageTimings,
): Promise<AdmittedSource> {
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
      if (error instanceof QueueFullError) outcome = 'shed';
      throw error;
    }
    const waited = performance.now() - waitStarted;
    if (timings !== undefined) timings.queueMs = (timings.queueMs ?? 0) + waited;
    try {
      const upstream = await readSource(opened, deps, signal);
      const fetchMs = performance.now() - started - waited;
      deps.metrics.fetchDuration.observe({ source, outcome }, fetchMs / 1000);
      if (timings !== undefined) timings.fetchMs = fetchMs;
      return { upstream, plan, admission };
    } catch (error: unknown) {
      admission.release();
      throw error;
    }
  } catch (error: unknown) {
    if (outcome === 'ok') outcome = 'error';
    deps.metrics.fetchDuration.observe({ source, outcome }, (performance.now() - started) / 1000);
    throw error;
  }
}

/** A downloaded source and its claim on the memory budget (released by the caller). */
export interface AdmittedSource {
  upstream: UpstreamImage;
  plan: AdmissionPlan;
  admission: Admission;
}
