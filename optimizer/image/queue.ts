/**
 * A bounded work queue for transforms. Transforms are CPU-bound: running more at once
 * than there are CPUs only adds latency and memory, and letting waiters pile up without
 * bound turns a traffic spike into an out-of-memory kill. So at most `concurrency` run,
 * at most `queueSize` wait in FIFO order, and the rest are shed with QueueFullError
 * (503 + Retry-After) while the service stays healthy.
 */
import { QueueFullError } from '../errors.ts';

export { defaultConcurrency } from './concurrency.ts';

/** Sizes of the queue. */
export interface TransformQueueOptions {
  /** Tasks running at once, ≥ 1. */
  concurrency: number;
  /** Tasks allowed to wait for a slot, ≥ 0. */
  queueSize: number;
}

interface Waiter {
  start: () => void;
}

/** Before any task has finished, assume one takes about this long. */
const INITIAL_TASK_SECONDS = 1;
/** Weight of the newest duration in the moving average. */
const SMOOTHING = 0.2;
/** Bounds of Retry-After: never "now", never so long that clients give up on us. */
const MIN_RETRY_AFTER_SECONDS = 1;
const MAX_RETRY_AFTER_SECONDS = 60;

function checkCount(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`TransformQueue: ${name} must be an integer >= ${min}, got ${value}`);
  }
}

/** Runs async tasks with bounded concurrency and a bounded FIFO of waiters. */
export class TransformQueue {
  readonly #concurrency: number;
  readonly #queueSize: number;
  readonly #waiting: Waiter[] = [];
  #running = 0;
  #averageTaskSeconds = INITIAL_TASK_SECONDS;

  constructor(options: TransformQueueOptions) {
    checkCount('concurrency', options.concurrency, 1);
    checkCount('queueSize', options.queueSize, 0);
    this.#concurrency = options.concurrency;
    this.#queueSize = options.queueSize;
  }

  /** Tasks waiting for a slot. */
  get depth(): number {
    return this.#waiting.length;
  }

  /** Tasks running now. */
  get running(): number {
    return this.#running;
  }

  /**
   * Runs `task` when a slot is free. Rejects with QueueFullError when the queue is full,
   * and with `signal.reason` if the signal aborts before the task starts (it then never
   * starts). Once started, a task runs to completion: cancelling it is its own job (the
   * transform has sharp's timeout).
   */
  run<T>(task: () => Promise<T>, signal: AbortSignal): Promise<T> {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (this.#running < this.#concurrency) return this.#start(task);
    if (this.#waiting.length >= this.#queueSize) {
      return Promise.reject(new QueueFullError(this.#retryAfterSeconds()));
    }
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = {
        start: () => {
          signal.removeEventListener('abort', onAbort);
          this.#start(task).then(resolve, reject);
        },
      };
      const onAbort = (): void => {
        const index = this.#waiting.indexOf(waiter);
        if (index !== -1) this.#waiting.splice(index, 1);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(waiter);
    });
  }

  async #start<T>(task: () => Promise<T>): Promise<T> {
    this.#running += 1;
    const startedAt = performance.now();
    try {
      return await task();
    } finally {
      this.#running -= 1;
      this.#record((performance.now() - startedAt) / 1000);
      this.#startWaiters();
    }
  }

  #startWaiters(): void {
    while (this.#running < this.#concurrency) {
      const waiter = this.#waiting.shift();
      if (waiter === undefined) return;
      waiter.start();
    }
  }

  #record(seconds: number): void {
    this.#averageTaskSeconds = SMOOTHING * seconds + (1 - SMOOTHING) * this.#averageTaskSeconds;
  }

  /** About when a slot for a new task would open: the time to drain what is queued now. */
  #retryAfterSeconds(): number {
    const rounds = (this.#waiting.length + 1) / this.#concurrency;
    const seconds = Math.ceil(rounds * this.#averageTaskSeconds);
    return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(MIN_RETRY_AFTER_SECONDS, seconds));
  }
}
