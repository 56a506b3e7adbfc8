import { createHash } from 'node:crypto';
import type { KubernetesObject, V1ConfigMap, V1Secret } from '@kubernetes/client-node';
import type { ImageOptimizer } from '../../api/image-optimizer.ts';
import { gatewayConfig, optimizerConfig } from './configs.ts';
import {
  gatewayAutoscaler,
  gatewayDeployment,
  gatewayDisruptionBudget,
  gatewayService,
} from './gateway.ts';
import { podMonitor, prometheusRule } from './monitoring.ts';
import { childMeta, childNames, PORTS } from './names.ts';
import {
  optimizerAutoscaler,
  optimizerDeployment,
  optimizerDisruptionBudget,
  optimizerService,
} from './optimizer.ts';
import { httpRoute, ingress } from './routing.ts';
import { inlineSecretWarnings, secretUses } from './secret-refs.ts';
import { planStorage, type StoragePlan } from './storage.ts';
import { valkeyNetworkPolicy, valkeySecret, valkeyService, valkeyWorkload } from './valkey.ts';

/** What render needs besides the CR; all of it comes from the operator's config or the cluster. */
export interface RenderOptions {
  /** The next-image container image (the CR's spec.image wins). */
  image: string;
  /** The Valkey image (the CR's spec.valkey.image wins). */
  valkeyImage: string;
  /** The cluster's DNS domain, e.g. cluster.local. */
  clusterDomain: string;
  /** The password of a managed Valkey: the existing Secret's, or a new one; used only when Valkey runs. */
  valkeyPassword: string;
  /**
   * A digest of the referenced Secrets' values (the operator reads them); it goes on the
   * optimizer pod template so a rotated Secret rolls the pods. `next-image render` has none.
   */
  secretHash?: string | undefined;
}

/** What render produced: the objects in apply order, and the storage decision (for status). */
export interface Rendered {
  objects: KubernetesObject[];
  storage: StoragePlan;
  /** Secrets written inline in the CR (warned about by `render` and the operator). */
  warnings: string[];
}

/** A short, stable digest of a config file; on a pod template it rolls the pods when the config changes. */
export function configHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** JSON as written to the config files: stable key order comes from the builders. */
function configText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** The storage plan of a CR, as render decides it. */
export function storageOf(cr: ImageOptimizer, options: RenderOptions): StoragePlan {
  const ns = cr.metadata.namespace ?? 'default';
  const host = `${childNames(cr.metadata.name).valkey}.${ns}.svc.${options.clusterDomain}`;
  return planStorage(cr.spec, { host, port: PORTS.valkey, password: options.valkeyPassword });
}

/** Routing mode gateway: the gateway's config, Service and Deployment. */
function gatewayObjects(
  cr: ImageOptimizer,
  image: string,
  options: RenderOptions,
): KubernetesObject[] {
  const names = childNames(cr.metadata.name);
  const gatewayJson = configText(gatewayConfig(cr, options.clusterDomain));
  const gatewayConfigMap: V1ConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: childMeta(cr, names.gatewayConfig, 'gateway'),
    data: { 'gateway.json': gatewayJson },
  };
  return [
    gatewayConfigMap,
    gatewayService(cr),
    gatewayDeployment(cr, image, configHash(gatewayJson)),
    gatewayAutoscaler(cr),
    gatewayDisruptionBudget(cr),
  ].filter((o): o is KubernetesObject => o !== undefined);
}

/** Every object one ImageOptimizer needs. Pure and deterministic: same input, same output. */
export function render(cr: ImageOptimizer, options: RenderOptions): Rendered {
  const names = childNames(cr.metadata.name);
  const image = cr.spec.image ?? options.image;
  const storage = storageOf(cr, options);
  const optimizerJson = configText(optimizerConfig(cr, storage, options.clusterDomain));

  // The optimizer config can carry credentials (a storage URL with a password), so it is a Secret.
  const optimizerSecret: V1Secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: childMeta(cr, names.optimizerConfig, 'optimizer'),
    type: 'Opaque',
    data: { 'optimizer.json': Buffer.from(optimizerJson).toString('base64') },
  };

  const objects: Array<KubernetesObject | undefined> = [];
  if (storage.managedValkey) {
    const valkeyImage = cr.spec.valkey.image ?? options.valkeyImage;
    objects.push(
      valkeySecret(cr, options.valkeyPassword),
      valkeyService(cr),
      valkeyNetworkPolicy(cr),
      valkeyWorkload(cr, valkeyImage),
    );
  }
  objects.push(
    optimizerSecret,
    optimizerService(cr),
    optimizerDeployment(cr, image, configHash(optimizerJson), storage, {
      uses: secretUses(cr.spec),
      hash: options.secretHash,
    }),
    optimizerAutoscaler(cr),
    optimizerDisruptionBudget(cr),
    podMonitor(cr),
    prometheusRule(cr),
  );
  // Routing modes httpRoute and ingress run no gateway of ours (switching prunes it).
  if (cr.spec.routing.mode === 'gateway') objects.push(...gatewayObjects(cr, image, options));
  objects.push(httpRoute(cr), ingress(cr));
  return {
    objects: objects.filter((o): o is KubernetesObject => o !== undefined),
    storage,
    warnings: inlineSecretWarnings(cr.spec),
  };
}
