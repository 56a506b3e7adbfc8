import type { V1Lease } from '@kubernetes/client-node';
import { sleep } from '../lib/abortable.ts';
import type { Logger } from '../lib/logger.ts';
import { KubeApiError } from './errors.ts';
import type { KubeClient } from './kube/client.ts';
import { LEASE, resourcePath } from './kube/kinds.ts';

export interface LeaderElectionOptions {
  client: KubeClient;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationSeconds: number;
  renewDeadlineSeconds: number;
  retryPeriodSeconds: number;
  logger: Logger;
}

/**
 * A Lease's renewTime/acquireTime are metav1.MicroTime: RFC 3339 with exactly 6 fractional
 * digits. `Date.toISOString()` has 3, which the API server rejects with 400.
 */
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/**
 * Leader election on a coordination.k8s.io Lease, as client-go does it: create or take over an
 * expired lease, renew every retry period, and give up leadership when no renewal succeeded
 * within the renew deadline. Expiry is judged from when *we* last saw the record change, never
 * from the other holder's clock.
 */
export class LeaderElector {
  readonly #o: LeaderElectionOptions;
  readonly #path: string;
  readonly #abort = new AbortController();
  #observed = { record: '', at: 0 };
  #leader = false;

  constructor(options: LeaderElectionOptions) {
    this.#o = options;
    this.#path = resourcePath(LEASE, options.namespace, options.name);
  }

  get isLeader(): boolean {
    return this.#leader;
  }

  /**
   * Campaigns until elected (calls `onStarted`), then renews; calls `onLost` and returns if
   * renewal fails past the deadline. Returns without `onLost` when stopped.
   */
  async run(onStarted: () => void, onLost: (error: Error) => void): Promise<void> {
    const { retryPeriodSeconds, renewDeadlineSeconds, logger } = this.#o;
    let lastRenew = 0;
    while (!this.#abort.signal.aborted) {
      const ok = await this.#tryAcquireOrRenew().catch((error: unknown) => {
        logger.warn(
          { err: error instanceof Error ? error.message : String(error) },
          'lease update failed',
        );
        return false;
      });
      if (this.#abort.signal.aborted) return;
      if (ok) {
        lastRenew = Date.now();
        if (!this.#leader) {
          this.#leader = true;
          logger.info({ lease: this.#o.name, identity: this.#o.identity }, 'became leader');
          onStarted();
        }
      } else if (this.#leader && Date.now() - lastRenew > renewDeadlineSeconds * 1000) {
        this.#leader = false;
        onLost(
          new Error(
            `could not renew lease ${this.#o.namespace}/${this.#o.name} within ${renewDeadlineSeconds}s`,
          ),
        );
        return;
      }
      // Rejects only when stopped; the loop condition then ends the campaign.
      await sleep(retryPeriodSeconds * 1000, this.#abort.signal).catch(() => undefined);
    }
  }

  /** Stops campaigning; if leading, hands the lease back so a standby takes over at once. */
  async stop(): Promise<void> {
    this.#abort.abort();
    if (!this.#leader) return;
    this.#leader = false;
    const lease = await this.#o.client.get<V1Lease>(this.#path).catch(() => undefined);
    if (lease?.spec?.holderIdentity !== this.#o.identity) return;
    const spec = {
      ...lease.spec,
      holderIdentity: '',
      leaseDurationSeconds: 1,
      renewTime: microTime(new Date()),
    };
    await this.#o.client.request('PUT', this.#path, { ...lease, spec }).catch(() => undefined);
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const { client, identity, leaseDurationSeconds, namespace, name } = this.#o;
    const now = microTime(new Date());
    const lease = await client.get<V1Lease>(this.#path);
    if (lease === undefined) {
      const created = {
        apiVersion: LEASE.apiVersion,
        kind: LEASE.kind,
        metadata: { name, namespace },
        spec: {
          holderIdentity: identity,
          leaseDurationSeconds,
          acquireTime: now,
          renewTime: now,
          leaseTransitions: 0,
        },
      };
      return this.#write(() => client.request('POST', resourcePath(LEASE, namespace), created));
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const record = `${holder}|${String(spec.renewTime ?? '')}|${spec.leaseDurationSeconds ?? ''}`;
    if (record !== this.#observed.record) this.#observed = { record, at: Date.now() };
    const expired =
      Date.now() - this.#observed.at > (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
    if (holder !== '' && holder !== identity && !expired) return false;
    const next: Record<string, unknown> = {
      ...spec,
      holderIdentity: identity,
      leaseDurationSeconds,
      renewTime: now,
    };
    if (holder !== identity) {
      next.acquireTime = now;
      next.leaseTransitions = (spec.leaseTransitions ?? 0) + 1;
    }
    const ok = await this.#write(() => client.request('PUT', this.#path, { ...lease, spec: next }));
    if (ok)
      this.#observed = { record: `${identity}|${now}|${leaseDurationSeconds}`, at: Date.now() };
    return ok;
  }

  /** Runs a write; a 409 Conflict means someone else wrote first: not leader this round. */
  async #write(write: () => Promise<unknown>): Promise<boolean> {
    try {
      await write();
      return true;
    } catch (error: unknown) {
      if (error instanceof KubeApiError && error.status === 409) return false;
      throw error;
    }
  }
}
