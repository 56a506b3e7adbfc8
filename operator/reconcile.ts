import { randomBytes } from 'node:crypto';
import type { KubernetesObject, V1Deployment, V1Secret, V1Service } from '@kubernetes/client-node';
import {
  type ImageOptimizer,
  ImageOptimizerSchema,
  type ImageOptimizerStatus,
  ImageOptimizerStatusSchema,
} from '../api/image-optimizer.ts';
import { formatIssues } from '../lib/config-file.ts';
import type { Logger } from '../lib/logger.ts';
import { applyChildren, FIELD_MANAGER, pruneChildren } from './children.ts';
import type { EventRecorder } from './events.ts';
import type { Caches } from './kube/caches.ts';
import type { KubeClient } from './kube/client.ts';
import { IMAGE_OPTIMIZER, SECRET } from './kube/kinds.ts';
import { applyMonitoring, isMonitoringObject, pruneMonitoring } from './monitoring.ts';
import { childNames, selectorLabels, selectorString } from './render/names.ts';
import { type RenderOptions, render } from './render/render.ts';
import { secretUses } from './render/secret-refs.ts';
import { VALKEY_PASSWORD_KEY } from './render/valkey.ts';
import { applyFailure, type ObservedRoute } from './routing-status.ts';
import { resolveSecrets } from './secrets.ts';
import { computeStatus, type Observed, sameStatus } from './status.ts';

/** What a reconcile asks of the queue. */
export interface ReconcileResult {
  requeueAfterMs?: number;
}

export interface ReconcilerDeps {
  client: KubeClient;
  caches: Caches;
  events: EventRecorder;
  logger: Logger;
  render: Omit<RenderOptions, 'valkeyPassword'>;
  now?: () => Date;
}

/** While not Ready, look again after this long even if no child event arrives. */
const NOT_READY_RECHECK_MS = 30_000;

/**
 * Level-triggered reconcile of one ImageOptimizer:
 * get → parse → render → apply → prune → observe → status (written only when changed).
 */
export class Reconciler {
  readonly #d: ReconcilerDeps;

  constructor(deps: ReconcilerDeps) {
    this.#d = deps;
  }

  async reconcile(namespace: string, name: string): Promise<ReconcileResult> {
    const raw = this.#d.caches.get<KubernetesObject & { spec?: unknown; status?: unknown }>(
      IMAGE_OPTIMIZER,
      namespace,
      name,
    );
    if (raw === undefined || raw.metadata?.deletionTimestamp !== undefined) return {}; // children go by garbage collection
    const previous = ImageOptimizerStatusSchema.safeParse(raw.status ?? {}).data;
    const parsed = ImageOptimizerSchema.safeParse({
      apiVersion: raw.apiVersion,
      kind: raw.kind,
      metadata: raw.metadata,
      spec: raw.spec,
    });
    if (!parsed.success) {
      const message = formatIssues(parsed.error.issues).join('; ');
      await this.#writeStatus(
        raw,
        previous,
        this.#failedObservation(raw, { reason: 'InvalidSpec', message }),
      );
      return {};
    }
    const cr = parsed.data;
    // Referenced Secrets first: without them nothing is applied or pruned (the pods keep running).
    const secrets = resolveSecrets(namespace, secretUses(cr.spec), (ns, n) =>
      this.#d.caches.secret<V1Secret>(ns, n),
    );
    if ('failure' in secrets) {
      await this.#writeStatus(raw, previous, this.#failedObservation(raw, secrets.failure));
      return {};
    }
    const rendered = render(cr, {
      ...this.#d.render,
      valkeyPassword: this.#valkeyPassword(cr),
      secretHash: secrets.hash,
    });
    const { storage, warnings } = rendered;
    const objects = rendered.objects.filter((o) => !isMonitoringObject(o));
    const monitoringObjects = rendered.objects.filter(isMonitoringObject);
    const applied = await applyChildren(this.#d.client, this.#d.caches, objects);
    for (const key of applied.created)
      this.#d.events.emit(raw, 'Normal', 'Created', `created ${key}`);
    if (applied.error !== undefined) {
      const failure = applyFailure(applied);
      await this.#writeStatus(raw, previous, this.#failedObservation(raw, failure));
      throw applied.error;
    }
    const pruned = await pruneChildren(
      this.#d.client,
      this.#d.caches,
      namespace,
      cr.metadata.uid ?? '',
      objects,
    );
    const monitoring = await applyMonitoring(this.#d.client, monitoringObjects);
    pruned.push(
      ...(await pruneMonitoring(
        this.#d.client,
        namespace,
        name,
        cr.metadata.uid ?? '',
        monitoringObjects,
      )),
    );
    for (const key of pruned)
      this.#d.events.emit(raw, 'Normal', 'Deleted', `deleted ${key}, no longer needed`);
    const names = childNames(name);
    const observed: Observed = {
      ...this.#baseObservation(cr.metadata, cr.spec.gateway.service.port),
      optimizer: applied.objects.get(`Deployment/${names.optimizer}`) as V1Deployment | undefined,
      gateway: applied.objects.get(`Deployment/${names.gateway}`) as V1Deployment | undefined,
      gatewayWanted: cr.spec.routing.mode === 'gateway',
      routeWanted: cr.spec.routing.mode === 'httpRoute',
      route: applied.objects.get(`HTTPRoute/${names.route}`) as ObservedRoute | undefined,
      // A StatefulSet's status has the fields deploymentState reads (replicas, updated, available).
      valkey: (applied.objects.get(`Deployment/${names.valkey}`) ??
        applied.objects.get(`StatefulSet/${names.valkey}`)) as V1Deployment | undefined,
      valkeyWanted: storage.managedValkey,
      gatewayService: applied.objects.get(`Service/${names.gateway}`) as V1Service | undefined,
      storage: storage.label,
      warnings,
      failure: monitoring.missing,
    };
    const status = await this.#writeStatus(raw, previous, observed);
    this.#warnOnce(raw, previous, warnings);
    const ready = status.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
    return ready ? {} : { requeueAfterMs: NOT_READY_RECHECK_MS };
  }

  /** A Warning Event per inline-secret warning the previous status did not carry yet. */
  #warnOnce(
    raw: KubernetesObject,
    previous: ImageOptimizerStatus | undefined,
    warnings: string[],
  ): void {
    const before = previous?.conditions?.find((c) => c.type === 'Ready')?.message ?? '';
    for (const warning of warnings)
      if (!before.includes(warning)) this.#d.events.emit(raw, 'Warning', 'InlineSecret', warning);
  }

  /** The existing Valkey password, so it is generated once and kept. */
  #valkeyPassword(cr: ImageOptimizer): string {
    const ns = cr.metadata.namespace ?? 'default';
    const secret = this.#d.caches.get<V1Secret>(SECRET, ns, childNames(cr.metadata.name).valkey);
    const stored = secret?.data?.[VALKEY_PASSWORD_KEY];
    return stored !== undefined
      ? Buffer.from(stored, 'base64').toString('utf8')
      : randomBytes(24).toString('hex');
  }

  #baseObservation(
    meta: { name?: string; namespace?: string; generation?: number },
    port = 80,
  ): Omit<Observed, 'valkeyWanted' | 'storage'> {
    const name = meta.name ?? '';
    const host = `${childNames(name).gateway}.${meta.namespace ?? 'default'}.svc.${this.#d.render.clusterDomain}`;
    return {
      generation: meta.generation ?? 0,
      selector: selectorString(selectorLabels(name, 'optimizer')),
      gatewayDnsAddress: port === 80 ? `http://${host}` : `http://${host}:${port}`,
    };
  }

  #failedObservation(
    raw: KubernetesObject,
    failure: { reason: string; message: string },
  ): Observed {
    const meta = raw.metadata ?? {};
    return {
      ...this.#baseObservation(meta),
      valkeyWanted: false,
      storage: '',
      failure,
    };
  }

  /** Computes the status and writes it when it changed; emits Events on Ready/Degraded flips. */
  async #writeStatus(
    raw: KubernetesObject,
    previous: ImageOptimizerStatus | undefined,
    observed: Observed,
  ): Promise<ImageOptimizerStatus> {
    const status = computeStatus(observed, previous, (this.#d.now ?? (() => new Date()))());
    if (sameStatus(previous, status)) return status;
    const body = {
      apiVersion: raw.apiVersion,
      kind: raw.kind,
      metadata: { name: raw.metadata?.name, namespace: raw.metadata?.namespace },
      status,
    };
    await this.#d.client.apply(body, FIELD_MANAGER, 'status');
    const was = (type: string): string | undefined =>
      previous?.conditions?.find((c) => c.type === type)?.status;
    const now = (type: string) => status.conditions?.find((c) => c.type === type);
    const ready = now('Ready');
    const degraded = now('Degraded');
    if (ready !== undefined && ready.status !== was('Ready') && ready.status === 'True')
      this.#d.events.emit(raw, 'Normal', 'Ready', ready.message);
    if (degraded !== undefined && degraded.status === 'True' && was('Degraded') !== 'True')
      this.#d.events.emit(raw, 'Warning', degraded.reason, degraded.message);
    return status;
  }
}
