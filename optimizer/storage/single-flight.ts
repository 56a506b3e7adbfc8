import { abortable } from '../../lib/abortable.ts';

/**
 * In-process single flight: concurrent callers for one key share one run of `produce`.
 * A caller whose signal aborts stops waiting; the run goes on for the others. `produce` gets
 * a signal that aborts once every caller has stopped waiting, so work done only for waiting
 * callers (such as waiting on another replica) can stop early.
 */
export class SingleFlight<T> {
  readonly #inFlight = new Map<
    string,
    { promise: Promise<T>; callers: number; controller: AbortController }
  >();

  get size(): number {
    return this.#inFlight.size;
  }

  run(key: string, produce: (signal: AbortSignal) => Promise<T>, signal: AbortSignal): Promise<T> {
    if (signal.aborted) return Promise.reject(signal.reason);
    let flight = this.#inFlight.get(key);
    if (flight === undefined) {
      const controller = new AbortController();
      const created = { promise: Promise.resolve() as Promise<T>, callers: 0, controller };
      created.promise = Promise.resolve()
        .then(() => produce(controller.signal))
        .finally(() => {
          if (this.#inFlight.get(key) === created) this.#inFlight.delete(key);
        });
      this.#inFlight.set(key, created);
      flight = created;
    }
    const shared = flight;
    shared.callers++;
    const left = (): void => {
      shared.callers--;
      if (shared.callers > 0) return;
      // Nobody waits any more: later callers start afresh instead of joining an abandoned run.
      if (this.#inFlight.get(key) === shared) this.#inFlight.delete(key);
      shared.controller.abort(signal.reason);
    };
    return abortable(shared.promise, signal, left);
  }
}
