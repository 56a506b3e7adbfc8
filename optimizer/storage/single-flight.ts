/**
 * In-process single flight: concurrent callers for one key share one run of `produce`.
 * A caller whose signal aborts stops waiting; the run goes on for the others.
 */
export class SingleFlight<T> {
  readonly #inFlight = new Map<string, Promise<T>>();

  get size(): number {
    return this.#inFlight.size;
  }

  run(key: string, produce: () => Promise<T>, signal: AbortSignal): Promise<T> {
    let shared = this.#inFlight.get(key);
    if (shared === undefined) {
      shared = produce().finally(() => this.#inFlight.delete(key));
      this.#inFlight.set(key, shared);
    }
    return withAbort(shared, signal);
  }
}

/** Rejects with the signal's reason when it aborts before `promise` settles. */
export function withAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
