/** One waiter's subscription to wake-ups for a key. */
export interface Listener {
  /** Resolves on the next notification since the last wait (or one already pending), or after `ms`. */
  wait(ms: number, signal: AbortSignal): Promise<void>;
  close(): void;
}

/** Wakes local waiters by key; a notification that comes between two waits is not lost. */
export class KeyedNotifier {
  readonly #listeners = new Map<string, Set<{ pending: boolean; wake?: () => void }>>();

  get size(): number {
    return this.#listeners.size;
  }

  listen(key: string): Listener {
    const state: { pending: boolean; wake?: () => void } = { pending: false };
    let set = this.#listeners.get(key);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(key, set);
    }
    set.add(state);
    return {
      wait: (ms, signal) => waitFor(state, ms, signal),
      close: () => {
        const current = this.#listeners.get(key);
        current?.delete(state);
        if (current?.size === 0) this.#listeners.delete(key);
      },
    };
  }

  notify(key: string): void {
    for (const state of this.#listeners.get(key) ?? []) {
      state.pending = true;
      state.wake?.();
    }
  }
}

function waitFor(
  state: { pending: boolean; wake?: () => void },
  ms: number,
  signal: AbortSignal,
): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  if (state.pending) {
    state.pending = false;
    return Promise.resolve();
  }
  return new Promise<void>((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', aborted);
      state.wake = undefined;
      state.pending = false;
    };
    const aborted = (): void => {
      done();
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      done();
      resolve();
    }, ms);
    state.wake = () => {
      done();
      resolve();
    };
    signal.addEventListener('abort', aborted, { once: true });
  });
}
