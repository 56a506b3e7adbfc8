import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { JobTimings } from './image/index.ts';

/** The optimizer's Prometheus metrics, on a registry of its own (one per app instance). */
export interface OptimizerMetrics {
  registry: Registry;
  requests: Counter<'status'>;
  cache: Counter<'result'>;
  fetchDuration: Histogram<'source' | 'outcome'>;
  transformDuration: Histogram<'format'>;
  transformStage: Histogram<'stage'>;
  transformStageCpu: Counter<'stage'>;
  fetchAttempts: Counter<'source'>;
  retries: Counter<'source'>;
  transforms: Counter<'outcome'>;
  bytesIn: Counter;
  bytesOut: Counter;
  inFlightJobs: Gauge;
  queueDepth: Gauge;
  transformsRunning: Gauge;
  shed: Counter<'reason'>;
  decodesRefused: Counter<'reason'>;
  memoryBudget: Gauge;
  memoryAdmitted: Gauge;
}

/** Creates the metrics; `sampleQueue` is read at scrape time so gauges are never stale. */
export function createMetrics(
  sampleQueue: () => { depth: number; running: number; budgetBytes: number; admittedBytes: number },
): OptimizerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const durationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
  return {
    registry,
    requests: new Counter({
      name: 'next_image_requests_total',
      help: 'Responses by HTTP status',
      labelNames: ['status'],
      registers,
    }),
    cache: new Counter({
      name: 'next_image_cache_total',
      help: 'Cache results (X-Nextjs-Cache)',
      labelNames: ['result'],
      registers,
    }),
    fetchDuration: new Histogram({
      name: 'next_image_fetch_duration_seconds',
      help: 'Source fetch time, all attempts, without the wait for memory (outcome ok, error, shed)',
      labelNames: ['source', 'outcome'],
      buckets: durationBuckets,
      registers,
    }),
    transformDuration: new Histogram({
      name: 'next_image_transform_duration_seconds',
      help: 'sharp transform time',
      labelNames: ['format'],
      buckets: durationBuckets,
      registers,
    }),
    transformStage: new Histogram({
      name: 'next_image_transform_stage_seconds',
      help: 'Wall time of a transform child job by stage: receive (the source over the pipe), sharp (decode + resize + encode, one libvips pipeline), reply (the rest of the round trip)',
      labelNames: ['stage'],
      buckets: durationBuckets,
      registers,
    }),
    transformStageCpu: new Counter({
      name: 'next_image_transform_stage_cpu_seconds_total',
      help: 'CPU time of transform children by stage (all threads of the child): receive, sharp (decode + resize + encode), reply (serialization and GC between jobs)',
      labelNames: ['stage'],
      registers,
    }),
    fetchAttempts: new Counter({
      name: 'next_image_fetch_attempts_total',
      help: 'Upstream fetch attempts',
      labelNames: ['source'],
      registers,
    }),
    retries: new Counter({
      name: 'next_image_fetch_retries_total',
      help: 'Upstream fetch retries',
      labelNames: ['source'],
      registers,
    }),
    transforms: new Counter({
      name: 'next_image_transforms_total',
      help: 'Transforms by outcome (optimized, fallback, bypass)',
      labelNames: ['outcome'],
      registers,
    }),
    bytesIn: new Counter({
      name: 'next_image_upstream_bytes_total',
      help: 'Bytes fetched from sources',
      registers,
    }),
    bytesOut: new Counter({
      name: 'next_image_response_bytes_total',
      help: 'Image bytes sent to clients',
      registers,
    }),
    inFlightJobs: new Gauge({
      name: 'next_image_jobs_in_flight',
      help: 'Image jobs (fetch and transform of a miss or a revalidation) running in this process',
      registers,
    }),
    queueDepth: new Gauge({
      name: 'next_image_transform_queue_depth',
      help: 'Transforms waiting for a slot',
      registers,
      collect() {
        this.set(sampleQueue().depth);
      },
    }),
    shed: new Counter({
      name: 'next_image_shed_total',
      help: 'Jobs answered 503 + Retry-After before download, by what ran out (queue, memory)',
      labelNames: ['reason'],
      registers,
    }),
    decodesRefused: new Counter({
      name: 'next_image_decodes_refused_total',
      help: 'Sources served untransformed without a decode (pixels: maxInputPixels; memory: the budget)',
      labelNames: ['reason'],
      registers,
    }),
    memoryBudget: new Gauge({
      name: 'next_image_memory_budget_bytes',
      help: 'Memory budget for source bytes and decoder working sets (optimizer.memoryBudgetBytes)',
      registers,
      collect() {
        const budget = sampleQueue().budgetBytes;
        this.set(Number.isFinite(budget) ? budget : 0);
      },
    }),
    memoryAdmitted: new Gauge({
      name: 'next_image_memory_admitted_bytes',
      help: 'Bytes of the memory budget held by admitted jobs now',
      registers,
      collect() {
        this.set(sampleQueue().admittedBytes);
      },
    }),
    transformsRunning: new Gauge({
      name: 'next_image_transforms_running',
      help: 'Transforms running now',
      registers,
      collect() {
        this.set(sampleQueue().running);
      },
    }),
  };
}

/** Records one transform child job's stage timings (wall in the histogram, CPU in the counter). */
export function observeTransformStages(metrics: OptimizerMetrics, t: JobTimings): void {
  const replyWallMs = Math.max(0, t.roundTripMs - t.receive.wallMs - t.sharp.wallMs);
  metrics.transformStage.observe({ stage: 'receive' }, t.receive.wallMs / 1000);
  metrics.transformStage.observe({ stage: 'sharp' }, t.sharp.wallMs / 1000);
  metrics.transformStage.observe({ stage: 'reply' }, replyWallMs / 1000);
  metrics.transformStageCpu.inc({ stage: 'receive' }, t.receive.cpuMs / 1000);
  metrics.transformStageCpu.inc({ stage: 'sharp' }, t.sharp.cpuMs / 1000);
  metrics.transformStageCpu.inc({ stage: 'reply' }, t.betweenCpuMs / 1000);
}
