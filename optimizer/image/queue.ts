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
  /** Tasks allowed to wait for a slot, ≥ 0; as many again may wait for memory. */
  queueSize: number;
  /** Bytes admitted at once (admit()); default unbounded. */
  memoryBudgetBytes?: number;
}

/** Bytes a job holds from admit() until it calls release() (once; later calls do nothing). */
export interface Admission {
  readonly bytes: number;
  /**
   * Changes the bytes held, once the job knows better: shrinking always succeeds; growing
   * does not wait and answers false when the budget cannot give the difference now.
   */
  resize: (bytes: number) => boolean;
  release: () => void;
}

interface MemoryWaiter {
  bytes: number;
  admit: () => void;
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
  readonly #budget: number;
  readonly #memoryWaiting: MemoryWaiter[] = [];
  #admitted = 0;
  /** Jobs holding an admission now. */
  #holders = 0;
  #running = 0;
  #averageTaskSeconds = INITIAL_TASK_SECONDS;

  constructor(options: TransformQueueOptions) {
    checkCount('concurrency', options.concurrency, 1);
    checkCount('queueSize', options.queueSize, 0);
    this.#concurrency = options.concurrency;
    this.#queueSize = options.queueSize;
    const budget = options.memoryBudgetBytes ?? Number.POSITIVE_INFINITY;
    if (!(budget > 0)) {
      throw new RangeError(`TransformQueue: memoryBudgetBytes must be > 0, got ${budget}`);
    }
    this.#budget = budget;
  }

  /** The memory budget in bytes (Infinity when unbounded). */
  get budgetBytes(): number {
    return this.#budget;
  }

  /** Bytes admitted now and not yet released. */
  get admittedBytes(): number {
    return this.#admitted;
  }

  /** Jobs waiting for memory. */
  get memoryDepth(): number {
    return this.#memoryWaiting.length;
  }

  /**
   * Reserves `bytes` of the memory budget, in FIFO order: at once when they fit and nobody
   * waits, else after enough is released. Admitted and waiting jobs together are bounded by
   * `concurrency + queueSize`, as run() bounds running and queued tasks; past that it rejects
   * with QueueFullError, reason `memory` when memory is what the job would wait for, else
   * `queue` — before the job has downloaded anything. A job larger than the whole budget is
   * admitted alone (the caller refuses to decode what does not fit).
   */
  admit(bytes: number, signal: AbortSignal): Promise<Admission> {
    if (signal.aborted) return Promise.reject(signal.reason);
    const cost = Math.min(Math.max(0, bytes), this.#budget);
    const fitsNow = this.#memoryWaiting.length === 0 && this.#fits(cost);
    // Admitted jobs end in a transform slot or its queue: bound them as run() bounds those, so
    // a job that was admitted is never shed after its download.
    const jobs = this.#holders + this.#memoryWaiting.length;
    if (jobs >= this.#concurrency + this.#queueSize) {
      const ahead = Math.max(1, jobs - this.#concurrency + 1);
      const reason = fitsNow ? 'queue' : 'memory';
      return Promise.reject(new QueueFullError(this.#retryAfterSeconds(ahead), reason));
    }
    if (fitsNow) return Promise.resolve(this.#grant(cost));
    return new Promise<Admission>((resolve, reject) => {
      const waiter: MemoryWaiter = {
        bytes: cost,
        admit: () => {
          signal.removeEventListener('abort', onAbort);
          resolve(this.#grant(cost));
        },
      };
      const onAbort = (): void => {
        const index = this.#memoryWaiting.indexOf(waiter);
        if (index !== -1) this.#memoryWaiting.splice(index, 1);
        reject(signal.reason);
        this.#admitWaiters(); // the head may have been what blocked the others
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#memoryWaiting.push(waiter);
    });
  }

  #fits(cost: number): boolean {
    return this.#admitted === 0 || this.#admitted + cost <= this.#budget;
  }

  #grant(cost: number): Admission {
    this.#admitted += cost;
    this.#holders += 1;
    let held = true;
    let bytes = cost;
    return {
      get bytes() {
        return bytes;
      },
      resize: (wanted) => {
        if (!held) return false;
        const next = Math.min(Math.max(0, wanted), this.#budget);
        if (next > bytes && this.#admitted - bytes + next > this.#budget) return false;
        const shrunk = next < bytes;
        this.#admitted += next - bytes;
        bytes = next;
        if (shrunk) this.#admitWaiters();
        return true;
      },
      release: () => {
        if (!held) return;
        held = false;
        this.#admitted -= bytes;
        this.#holders -= 1;
        this.#admitWaiters();
      },
    };
  }

  #admitWaiters(): void {
    for (;;) {
      const head = this.#memoryWaiting[0];
      if (head === undefined || !this.#fits(head.bytes)) return;
      this.#memoryWaiting.shift();
      head.admit();
    }
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

  /** Retry-After in seconds for a job shed now. */
  retryAfterSeconds(): number {
    return this.#retryAfterSeconds();
  }

  /** About when a slot for a new task would open: the time to drain what is queued now. */
  #retryAfterSeconds(jobsAhead = this.#waiting.length + 1): number {
    const rounds = jobsAhead / this.#concurrency;
    const seconds = Math.ceil(rounds * this.#averageTaskSeconds);
    return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(MIN_RETRY_AFTER_SECONDS, seconds));
  }
}
