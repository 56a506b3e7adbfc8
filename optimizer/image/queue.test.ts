import { describe, expect, it } from 'vitest';
import { QueueFullError } from '../errors.ts';
import { TransformQueue } from './queue.ts';

/** A task the test finishes by hand, recording when it started. */
interface Gate {
  task: () => Promise<string>;
  release: () => void;
  started: boolean;
}

function gate(name: string, log: string[] = []): Gate {
  let release = (): void => {};
  const done = new Promise<void>((resolve) => {
    release = resolve;
  });
  const g: Gate = {
    started: false,
    release: () => release(),
    task: async () => {
      g.started = true;
      log.push(name);
      await done;
      return name;
    },
  };
  return g;
}

const never = new AbortController().signal;

/** Lets already-settled promise callbacks run. */
function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe('TransformQueue', () => {
  it('runs at most `concurrency` tasks at once and starts the next when one ends', async () => {
    const queue = new TransformQueue({ concurrency: 2, queueSize: 10 });
    const gates = [gate('a'), gate('b'), gate('c')];
    const results = gates.map((g) => queue.run(g.task, never));
    await flush();
    expect(gates.map((g) => g.started)).toEqual([true, true, false]);
    expect([queue.running, queue.depth]).toEqual([2, 1]);

    gates[0]!.release();
    await expect(results[0]).resolves.toBe('a');
    await flush();
    expect(gates[2]!.started).toBe(true);
    expect([queue.running, queue.depth]).toEqual([2, 0]);

    gates[1]!.release();
    gates[2]!.release();
    await expect(Promise.all(results)).resolves.toEqual(['a', 'b', 'c']);
    expect([queue.running, queue.depth]).toEqual([0, 0]);
  });

  it('starts waiters in FIFO order', async () => {
    const queue = new TransformQueue({ concurrency: 1, queueSize: 10 });
    const log: string[] = [];
    const gates = ['first', 'second', 'third', 'fourth'].map((name) => gate(name, log));
    const results = gates.map((g) => queue.run(g.task, never));
    for (const g of gates) {
      await flush();
      g.release();
    }
    await Promise.all(results);
    expect(log).toEqual(['first', 'second', 'third', 'fourth']);
  });

  it('rejects with QueueFullError (503, Retry-After ≥ 1 s) when queueSize tasks already wait', async () => {
    const queue = new TransformQueue({ concurrency: 1, queueSize: 2 });
    const gates = [gate('a'), gate('b'), gate('c')];
    const results = gates.map((g) => queue.run(g.task, never));
    const overflow = gate('d');
    const rejected = queue.run(overflow.task, never);
    await expect(rejected).rejects.toBeInstanceOf(QueueFullError);
    await expect(rejected).rejects.toMatchObject({ statusCode: 503, code: 'QUEUE_FULL' });
    const error = (await rejected.catch((e: unknown) => e)) as QueueFullError;
    expect(Number.isInteger(error.retryAfterSeconds)).toBe(true);
    expect(error.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(error.retryAfterSeconds).toBeLessThanOrEqual(60);
    expect(overflow.started).toBe(false);
    for (const g of gates) g.release();
    await Promise.all(results);
  });

  it('with queueSize 0, sheds everything beyond the running tasks', async () => {
    const queue = new TransformQueue({ concurrency: 1, queueSize: 0 });
    const running = gate('a');
    const result = queue.run(running.task, never);
    await expect(queue.run(gate('b').task, never)).rejects.toBeInstanceOf(QueueFullError);
    running.release();
    await expect(result).resolves.toBe('a');
  });

  it('removes a waiter whose signal aborts; it never runs and rejects with the reason', async () => {
    const queue = new TransformQueue({ concurrency: 1, queueSize: 5 });
    const log: string[] = [];
    const first = gate('first', log);
    const aborted = gate('aborted', log);
    const last = gate('last', log);
    const controller = new AbortController();
    const results = [
      queue.run(first.task, never),
      queue.run(aborted.task, controller.signal),
      queue.run(last.task, never),
    ];
    expect(queue.depth).toBe(2);
    const reason = new Error('client went away');
    controller.abort(reason);
    await expect(results[1]).rejects.toBe(reason);
    expect(queue.depth).toBe(1);

    first.release();
    await flush();
    last.release();
    await Promise.all([results[0], results[2]]);
    expect(log).toEqual(['first', 'last']);
    expect(aborted.started).toBe(false);
  });

  it('rejects at once, without running, when the signal is already aborted', async () => {
    const queue = new TransformQueue({ concurrency: 1, queueSize: 1 });
    const g = gate('x');
    const reason = new Error('too late');
    await expect(queue.run(g.task, AbortSignal.abort(reason))).rejects.toBe(reason);
    expect(g.started).toBe(false);
    expect(queue.running).toBe(0);
  });

  it('frees the slot when a task fails, and passes the failure through', async () => {
    const queue = new TransformQueue({ concurrency: 1, queueSize: 1 });
    const failure = new Error('sharp exploded');
    await expect(queue.run(() => Promise.reject(failure), never)).rejects.toBe(failure);
    const syncThrow = (): Promise<never> => {
      throw failure;
    };
    await expect(queue.run(syncThrow, never)).rejects.toBe(failure);
    expect(queue.running).toBe(0);
    await expect(queue.run(async () => 'ok', never)).resolves.toBe('ok');
  });

  it.each([
    [{ concurrency: 0, queueSize: 1 }, /concurrency must be an integer >= 1, got 0/],
    [{ concurrency: 1.5, queueSize: 1 }, /concurrency must be an integer >= 1, got 1.5/],
    [{ concurrency: 1, queueSize: -1 }, /queueSize must be an integer >= 0, got -1/],
  ])('refuses options %j', (options, message) => {
    expect(() => new TransformQueue(options)).toThrow(message);
  });
});
