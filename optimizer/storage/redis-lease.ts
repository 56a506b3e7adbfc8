import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

// Compare-and-act scripts: a replica only renews or releases a lease that is still its own,
// so one whose lease ran out (and was taken over) cannot cut short the new holder's.
const RENEW =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0";
const RELEASE =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0";

/** A lease this replica holds; renewed in the background until released. */
export interface HeldLease {
  token: string;
  /** Stops renewing and deletes the lease if it is still ours. Never throws. */
  release(): Promise<void>;
  /** Stops renewing and keeps the lease for `ms` more (a back-off others respect). Never throws. */
  holdFor(ms: number): Promise<void>;
  /** Stops renewing without touching Redis (the lease then runs out by itself). */
  abandon(): void;
}

/** Tries to take the lease `leaseKey` for `leaseMs`; undefined when another replica holds it. */
export async function tryLease(
  client: Redis,
  leaseKey: string,
  leaseMs: number,
): Promise<HeldLease | undefined> {
  const token = randomUUID();
  const taken = await client.set(leaseKey, token, 'PX', leaseMs, 'NX');
  if (taken !== 'OK') return undefined;
  // Renew well before expiry so a slow round trip never lets a live holder's lease lapse.
  const timer = setInterval(
    () => {
      client.eval(RENEW, 1, leaseKey, token, String(leaseMs)).catch(() => undefined);
    },
    Math.max(Math.floor(leaseMs / 3), 10),
  );
  timer.unref();
  let active = true;
  const stop = (): boolean => {
    const was = active;
    active = false;
    clearInterval(timer);
    return was;
  };
  return {
    token,
    release: async () => {
      if (!stop()) return;
      await client.eval(RELEASE, 1, leaseKey, token).catch(() => undefined);
    },
    holdFor: async (ms) => {
      if (!stop()) return;
      await client.eval(RENEW, 1, leaseKey, token, String(ms)).catch(() => undefined);
    },
    abandon: () => {
      stop();
    },
  };
}
