import { mkdir, mkdtemp, readdir, rm, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { until } from '../../test/support/until.ts';
import { ENTRY_FORMAT_VERSION } from './entry-format.ts';
import { FilesystemStore, type FilesystemStoreOptions, fileNameFor } from './filesystem.ts';
import { testEntry } from './test-support/entries.ts';

const logger = pino({ level: 'silent' });
let dir: string;
const open: FilesystemStore[] = [];

function store(options: Partial<FilesystemStoreOptions> = {}): FilesystemStore {
  const s = new FilesystemStore({
    path: dir,
    maxBytes: 1 << 20,
    memoryCacheBytes: 0,
    logger,
    ...options,
  });
  open.push(s);
  return s;
}

/** Every entry file on disk with its size. */
async function files(): Promise<Array<{ path: string; size: number }>> {
  const root = join(dir, `v${ENTRY_FORMAT_VERSION}`);
  const out: Array<{ path: string; size: number }> = [];
  for (const shard of await readdir(root)) {
    if (shard === 'tmp') continue;
    for (const name of await readdir(join(root, shard))) {
      const path = join(root, shard, name);
      out.push({ path, size: (await stat(path)).size });
    }
  }
  return out;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fs-store-'));
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
  await rm(dir, { recursive: true, force: true });
});

describe('FilesystemStore', () => {
  it('keeps entries, their metadata and their href across a restart', async () => {
    const first = store();
    const entry = testEntry(5000, { extension: 'avif', maxAge: 31536000, upstreamEtag: 'abc' });
    await first.set('key-aaaaaaaa', entry, '/a.png');
    await first.close();

    const second = store();
    expect(await second.get('key-aaaaaaaa')).toEqual(entry);
    expect(second.entries).toBe(1);
    expect(await second.purge('/a.png')).toBe(1);
    expect(await second.get('key-aaaaaaaa')).toBeUndefined();
    expect(await files()).toEqual([]);
  });

  it('serves from the in-process tier and still honours a purge', async () => {
    const s = store({ memoryCacheBytes: 1 << 20 });
    const entry = testEntry(2000);
    await s.set('key-bbbbbbbb', entry, '/b.png');
    await rm(dir, { recursive: true, force: true });
    // The file is gone but the in-process copy answers.
    expect((await s.get('key-bbbbbbbb'))?.buffer.equals(entry.buffer)).toBe(true);
    expect(await s.purge('/b.png')).toBe(1);
    expect(await s.get('key-bbbbbbbb')).toBeUndefined();
  });

  it('treats a truncated entry as a miss, removes it, and accepts a replacement', async () => {
    const first = store();
    await first.set('key-cccccccc', testEntry(4000), '/c.png');
    await first.close();
    const [file] = await files();
    await truncate(file!.path, file!.size - 100);

    const second = store();
    expect(await second.get('key-cccccccc')).toBeUndefined();
    expect(await files()).toEqual([]);
    const replacement = testEntry(3000);
    await second.set('key-cccccccc', replacement, '/c.png');
    expect((await second.get('key-cccccccc'))?.buffer.equals(replacement.buffer)).toBe(true);
  });

  it('treats an entry damaged while running as a miss and removes it', async () => {
    const s = store();
    await s.set('key-dddddddd', testEntry(4000), '/d.png');
    const [file] = await files();
    await truncate(file!.path, 50);
    expect(await s.get('key-dddddddd')).toBeUndefined();
    expect(await files()).toEqual([]);
    expect(s.entries).toBe(0);
  });

  it('removes garbage files and interrupted temp files at start', async () => {
    const first = store();
    await first.set('key-eeeeeeee', testEntry(1000), '/e.png');
    await first.close();
    const root = join(dir, `v${ENTRY_FORMAT_VERSION}`);
    await writeFile(join(root, 'ke', 'key-garbage1'), 'not an entry');
    await writeFile(join(root, 'tmp', 'leftover.tmp'), 'half a write');

    const second = store();
    await second.ready();
    expect((await files()).map((f) => f.path.slice(-12))).toEqual(['key-eeeeeeee']);
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
  });

  it('holds its size bound under churn and evicts the least recently used', async () => {
    const maxBytes = 40_000;
    const s = store({ maxBytes });
    const hot = testEntry(1500);
    await s.set('key-hot00000', hot, '/hot.png');
    for (let i = 0; i < 150; i++) {
      await s.set(
        `key-churn${String(i).padStart(4, '0')}`,
        testEntry(500 + ((i * 397) % 3000)),
        `/c${i}.png`,
      );
      expect(await s.get('key-hot00000')).toBeDefined();
      expect(s.diskBytes).toBeLessThanOrEqual(maxBytes);
    }
    await s.close();
    const onDisk = await files();
    expect(onDisk.reduce((sum, f) => sum + f.size, 0)).toBeLessThanOrEqual(maxBytes);
    expect(onDisk.length).toBe(s.entries);
    expect(onDisk.length).toBeGreaterThan(5);

    const reopened = store({ maxBytes });
    expect((await reopened.get('key-hot00000'))?.buffer.equals(hot.buffer)).toBe(true);
    expect(reopened.entries).toBe(onDisk.length);
  });

  it('rebuilds the bound at start when the directory is over it', async () => {
    const big = store({ maxBytes: 1 << 20 });
    for (let i = 0; i < 20; i++)
      await big.set(`key-many${String(i).padStart(4, '0')}`, testEntry(2000), '/m.png');
    await big.close();
    const small = store({ maxBytes: 10_000 });
    await small.ready();
    await small.close();
    expect((await files()).reduce((sum, f) => sum + f.size, 0)).toBeLessThanOrEqual(10_000);
  });

  it('keeps serving when the directory cannot be written, and reports degraded', async () => {
    const blocker = join(dir, 'blocker');
    await writeFile(blocker, 'a file where the cache directory should be');
    const registry = new Registry();
    const s = new FilesystemStore({
      path: blocker,
      maxBytes: 1 << 20,
      memoryCacheBytes: 0,
      logger,
      registry,
    });
    open.push(s);
    await s.set('key-ffffffff', testEntry(100), '/f.png');
    expect(await s.get('key-ffffffff')).toBeUndefined();
    expect(s.state()).toBe('degraded');
    expect(await registry.metrics()).toContain('next_image_storage_up{type="filesystem"} 0');
  });

  it('runs one revalidation per key at a time and backs off after a failure', async () => {
    const s = store();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let runs = 0;
    const slow = async (): Promise<ReturnType<typeof testEntry>> => {
      runs++;
      await gate;
      return testEntry(100);
    };
    const first = s.revalidate('key-gggggggg', '/g.png', slow);
    expect(await s.revalidate('key-gggggggg', '/g.png', slow)).toBe(false);
    release();
    expect(await first).toBe(true);
    expect(runs).toBe(1);
    expect(await s.get('key-gggggggg')).toBeDefined();

    const failing = async (): Promise<never> => {
      throw new Error('upstream down');
    };
    expect(await s.revalidate('key-hhhhhhhh', '/h.png', failing)).toBe(false);
    expect(await s.revalidate('key-hhhhhhhh', '/h.png', slow)).toBe(false);
    expect(runs).toBe(1);
  });

  it('runs produce once for concurrent calls from two processes sharing the directory', async () => {
    // Two stores on one directory stand for two pods on one RWX volume: only the lock file
    // (not the in-process flight) can merge their work.
    const a = store();
    const b = store();
    let runs = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const entry = testEntry(2000);
    const producer = (own: FilesystemStore) => async () => {
      runs++;
      await gate;
      await own.set('key-shared00', entry, '/shared.png');
      return entry;
    };
    const signal = new AbortController().signal;
    const calls = Array.from({ length: 20 }, (_, i) =>
      (i % 2 === 0 ? a : b).singleFlight('key-shared00', producer(i % 2 === 0 ? a : b), signal),
    );
    await until(() => runs > 0);
    release();
    for (const result of await Promise.all(calls))
      expect(result.buffer.equals(entry.buffer)).toBe(true);
    expect(runs).toBe(1);
    expect(await readdir(join(dir, `v${ENTRY_FORMAT_VERSION}`, 'locks'))).toEqual([]);
  });

  it('takes over a lock file left by a dead process', async () => {
    const s = store({ lockLeaseMs: 200, lockPollMs: 20 });
    await s.ready();
    const locks = join(dir, `v${ENTRY_FORMAT_VERSION}`, 'locks');
    await mkdir(locks, { recursive: true });
    const lock = join(locks, `${fileNameFor('key-orphan00')}.lock`);
    await writeFile(lock, 'dead-process');
    const past = Date.now() / 1000 - 60;
    await utimes(lock, past, past);
    const entry = testEntry(100);
    expect(
      await s.singleFlight('key-orphan00', async () => entry, new AbortController().signal),
    ).toBe(entry);
    // A lock whose holder stopped touching it just now is taken over once it goes stale.
    await writeFile(join(locks, `${fileNameFor('key-orphan02')}.lock`), 'just-died');
    const third = testEntry(100);
    expect(
      await s.singleFlight('key-orphan02', async () => third, new AbortController().signal),
    ).toBe(third);
  });
});
