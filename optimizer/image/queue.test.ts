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

describe('TransformQueue.admit (memory budget)', () => {
  it('admits what fits at once and queues the rest in FIFO order until bytes are released', async () => {
    const queue = new TransformQueue({ concurrency: 4, queueSize: 4, memoryBudgetBytes: 100 });
    const first = await queue.admit(60, never);
    const order: string[] = [];
    const big = queue.admit(50, never).then((a) => {
      order.push('big');
      return a;
    });
    const small = queue.admit(10, never).then((a) => {
      order.push('small');
      return a;
    });
    expect(queue.admittedBytes).toBe(60);
    expect(queue.memoryDepth).toBe(2);
    first.release();
    first.release(); // a second release gives nothing back twice
    await Promise.all([big, small]);
    expect(order).toEqual(['big', 'small']); // the small one did not overtake
    expect(queue.admittedBytes).toBe(60);
  });

  it('sheds with reason memory when the jobs it would wait behind fill the queue', async () => {
    const queue = new TransformQueue({ concurrency: 1, queueSize: 1, memoryBudgetBytes: 100 });
    await queue.admit(90, never);
    const waiting = queue.admit(20, never);
    const shed = await queue.admit(20, never).catch((error: unknown) => error);
    expect(shed).toBeInstanceOf(QueueFullError);
    expect((shed as QueueFullError).reason).toBe('memory');
    expect((shed as QueueFullError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    void waiting;
  });

  it('sheds with reason queue when memory fits but every slot and queue place is taken', async () => {
    const queue = new TransformQueue({ concurrency: 1, queueSize: 0, memoryBudgetBytes: 100 });
    await queue.admit(1, never);
    const shed = await queue.admit(1, never).catch((error: unknown) => error);
    expect((shed as QueueFullError).reason).toBe('queue');
  });

  it('admits a job larger than the whole budget alone', async () => {
    const queue = new TransformQueue({ concurrency: 2, queueSize: 2, memoryBudgetBytes: 100 });
    const huge = await queue.admit(500, never);
    expect(huge.bytes).toBe(100);
  });

  it('resizes: shrinking lets a waiter in, growing never waits', async () => {
    const queue = new TransformQueue({ concurrency: 4, queueSize: 4, memoryBudgetBytes: 100 });
    const held = await queue.admit(80, never);
    const waiter = queue.admit(50, never);
    expect(held.resize(40)).toBe(true);
    const admitted = await waiter;
    expect(queue.admittedBytes).toBe(90);
    expect(held.resize(60)).toBe(false);
    expect(held.resize(50)).toBe(true);
    admitted.release();
    held.release();
    expect(queue.admittedBytes).toBe(0);
  });

  it('drops a waiter whose signal aborts and admits the ones behind it', async () => {
    const queue = new TransformQueue({ concurrency: 4, queueSize: 4, memoryBudgetBytes: 100 });
    const held = await queue.admit(60, never);
    const controller = new AbortController();
    const blocked = queue.admit(50, controller.signal);
    const behind = queue.admit(30, never);
    controller.abort(new Error('gone'));
    await expect(blocked).rejects.toThrow('gone');
    expect((await behind).bytes).toBe(30);
    held.release();
  });
});
