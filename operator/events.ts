import { randomBytes } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../lib/logger.ts';
import type { KubeClient } from './kube/client.ts';
import { EVENT, resourcePath } from './kube/kinds.ts';

export type EventType = 'Normal' | 'Warning';

/** Records core/v1 Events on an ImageOptimizer; best effort, never fails a reconcile. */
export class EventRecorder {
  readonly #client: KubeClient;
  readonly #component: string;
  readonly #instance: string;
  readonly #logger: Logger;

  constructor(client: KubeClient, component: string, instance: string, logger: Logger) {
    this.#client = client;
    this.#component = component;
    this.#instance = instance;
    this.#logger = logger;
  }

  /** Emits one Event about `object`. */
  emit(object: KubernetesObject, type: EventType, reason: string, message: string): void {
    const meta = object.metadata ?? {};
    const namespace = meta.namespace ?? 'default';
    const now = new Date().toISOString();
    const event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: {
        name: `${meta.name}.${Date.now().toString(16)}${randomBytes(2).toString('hex')}`,
        namespace,
      },
      involvedObject: {
        apiVersion: object.apiVersion,
        kind: object.kind,
        name: meta.name,
        namespace,
        uid: meta.uid,
        resourceVersion: meta.resourceVersion,
      },
      type,
      reason,
      message: message.slice(0, 1024),
      source: { component: this.#component },
      reportingComponent: this.#component,
      reportingInstance: this.#instance,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    this.#client.request('POST', resourcePath(EVENT, namespace), event).catch((error: unknown) => {
      this.#logger.debug(
        { err: error instanceof Error ? error.message : String(error), reason },
        'could not record an Event',
      );
    });
  }
}
