import { randomUUID } from 'node:crypto';
import { open, readFile, stat, unlink, utimes } from 'node:fs/promises';

/** Tuning of lock files, in one place. */
export const FILE_LOCK_DEFAULTS = {
  /** A lock not touched for this long belongs to a dead process and may be taken over. */
  leaseMs: 10_000,
  /** Waiters look for the result this often (no cross-process notification on shared volumes). */
  pollMs: 100,
} as const;

/** A lock file this process holds; its mtime is refreshed while held. */
export interface HeldFileLock {
  release(): Promise<void>;
}

/**
 * Takes the lock file `path` (O_EXCL create), or undefined when another live process holds
 * it. A lock whose mtime is older than `leaseMs` is stale (its holder died) and is replaced.
 */
export async function tryFileLock(
  path: string,
  leaseMs: number,
): Promise<HeldFileLock | undefined> {
  const token = randomUUID();
  if (!(await create(path, token))) {
    const age = await lockAge(path);
    if (age === undefined || age <= leaseMs) return undefined;
    // Stale: remove it and race for a fresh one (at worst two processes both produce once).
    await unlink(path).catch(() => undefined);
    if (!(await create(path, token))) return undefined;
  }
  const timer = setInterval(
    () => {
      const now = Date.now() / 1000;
      utimes(path, now, now).catch(() => undefined);
    },
    Math.max(Math.floor(leaseMs / 3), 10),
  );
  timer.unref();
  return {
    release: async () => {
      clearInterval(timer);
      // Only remove it if it is still ours (it may have been taken over after a long stall).
      const owner = await readFile(path, 'utf8').catch(() => undefined);
      if (owner === token) await unlink(path).catch(() => undefined);
    },
  };
}

async function create(path: string, token: string): Promise<boolean> {
  try {
    const handle = await open(path, 'wx');
    try {
      await handle.writeFile(token);
    } finally {
      await handle.close();
    }
    return true;
  } catch (error: unknown) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** Milliseconds since the lock was last touched; undefined when it is gone. */
async function lockAge(path: string): Promise<number | undefined> {
  try {
    return Date.now() - (await stat(path)).mtimeMs;
  } catch {
    return undefined;
  }
}
