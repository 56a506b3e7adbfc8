/**
 * A job's time budget as a signal that knows its deadline, so nested steps (a fetch's
 * backoff, the transform's timeout) can size themselves to what is left.
 */

// Jobs carry their deadline on the signal.
const deadlines = new WeakMap<AbortSignal, number>();

/** A signal that aborts after `ms`, with its deadline known to remainingSeconds(). */
export function budgetSignal(ms: number): AbortSignal {
  const signal = AbortSignal.timeout(ms);
  deadlines.set(signal, Date.now() + ms);
  return signal;
}

/** Whole seconds left of the budget behind `signal` (Infinity when it has none). */
export function remainingSeconds(signal: AbortSignal): number {
  const deadline = deadlines.get(signal);
  return deadline === undefined
    ? Number.POSITIVE_INFINITY
    : Math.ceil((deadline - Date.now()) / 1000);
}

/** The epoch-ms deadline of a budgetSignal, or undefined. */
export function deadlineOf(signal: AbortSignal): number | undefined {
  return deadlines.get(signal);
}
