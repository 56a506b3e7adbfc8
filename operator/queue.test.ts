import { describe, expect, it } from 'vitest';
import { microTime } from './leader-election.ts';
import { BACKOFF, WorkQueue } from './queue.ts';

describe('WorkQueue', () => {
  it('queues a key once however often it is added', async () => {
    const q = new WorkQueue();
    q.add('a/x');
    q.add('a/x');
    q.add('a/y');
    expect(q.length).toBe(2);
    expect(await q.get()).toBe('a/x');
    expect(await q.get()).toBe('a/y');
  });

  it('never hands out a key being processed, and re-queues it on done if it was added meanwhile', async () => {
    const q = new WorkQueue();
    q.add('k');
    const key = await q.get();
    q.add('k');
    expect(q.length).toBe(0);
    q.done(key ?? '');
    expect(q.length).toBe(1);
    expect(await q.get()).toBe('k');
  });

  it('wakes a waiting worker when a key arrives', async () => {
    const q = new WorkQueue();
    const next = q.get();
    q.add('late');
    expect(await next).toBe('late');
  });

  it('backs off exponentially per key until forgotten', async () => {
    const q = new WorkQueue();
    for (let i = 0; i < 4; i++) q.addRateLimited('k');
    expect(q.failures('k')).toBe(4);
    expect(q.length).toBe(0);
    const started = Date.now();
    expect(await q.get()).toBe('k');
    // The first schedule (5 ms) wins over the later, longer ones.
    expect(Date.now() - started).toBeLessThan(BACKOFF.baseMs * 2 ** 3);
    q.forget('k');
    expect(q.failures('k')).toBe(0);
  });

  it('paces retries overall once the burst is spent', async () => {
    const q = new WorkQueue();
    for (let i = 0; i < BACKOFF.burst; i++) q.addRateLimited(`k${i}`);
    for (let i = 0; i < BACKOFF.burst; i++) await q.get();
    const started = Date.now();
    q.addRateLimited('one-too-many');
    expect(await q.get()).toBe('one-too-many');
    // 10 tokens per second: the next one is ~100 ms away, far beyond the key's own 5 ms.
    expect(Date.now() - started).toBeGreaterThanOrEqual(50);
  });

  it('releases waiting workers on shutdown', async () => {
    const q = new WorkQueue();
    const next = q.get();
    q.shutDown();
    expect(await next).toBeUndefined();
    q.add('ignored');
    expect(q.length).toBe(0);
  });

  it('hands out nothing more after shutdown, even keys that were waiting', async () => {
    const q = new WorkQueue();
    q.add('waiting');
    q.shutDown();
    expect(await q.get()).toBeUndefined();
  });
});

describe('microTime', () => {
  it('writes six fractional digits, as metav1.MicroTime requires', () => {
    expect(microTime(new Date('2026-11-24T06:00:00.123Z'))).toBe('2026-11-24T06:00:00.123000Z');
  });
});
