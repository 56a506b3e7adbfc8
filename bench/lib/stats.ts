/** What one column of the bench measured. */
export type RunStats = {
  /** Completed operations (HTTP requests or sharp jobs), successful or not. */
  count: number;
  /** Operations that failed (non-2xx, transport error, sharp error). */
  errors: number;
  durationMs: number;
  /** Successful operations per second over the whole run. */
  rps: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  /** Mean size of a successful response body (or encoded output). */
  meanBytes: number;
  /** CPU time the serving process tree spent per operation (set by the caller that can see it). */
  cpuMsPerOp?: number;
  /** The part of cpuMsPerOp spent by the serving process itself, and by its child processes. */
  cpuOwnMsPerOp?: number;
  cpuChildrenMsPerOp?: number;
  /** The server's /metrics text just before and just after the run (optimizer columns). */
  metrics?: { before: string; after: string };
  /** Free-form notes worth reporting (unexpected statuses, cache header counts…). */
  notes: string[];
};

/** The value at quantile `q` (0..1) of an ascending-sorted array (nearest rank). */
function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

/** Turns raw per-operation samples into a RunStats. */
export function summarize(input: {
  latenciesMs: number[];
  errors: number;
  durationMs: number;
  bytes: number;
  notes?: string[];
}): RunStats {
  const sorted = [...input.latenciesMs].sort((x, y) => x - y);
  const ok = sorted.length - input.errors;
  return {
    count: sorted.length,
    errors: input.errors,
    durationMs: input.durationMs,
    rps: input.durationMs > 0 ? (ok * 1000) / input.durationMs : 0,
    meanMs: sorted.length > 0 ? sorted.reduce((sum, v) => sum + v, 0) / sorted.length : Number.NaN,
    p50Ms: quantile(sorted, 0.5),
    p99Ms: quantile(sorted, 0.99),
    meanBytes: ok > 0 ? input.bytes / ok : 0,
    notes: input.notes ?? [],
  };
}

/** Median of a list of numbers (not necessarily sorted). */
export function median(values: readonly number[]): number {
  return quantile(
    [...values].sort((x, y) => x - y),
    0.5,
  );
}
