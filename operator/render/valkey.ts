import type {
  KubernetesObject,
  V1Deployment,
  V1LabelSelector,
  V1PersistentVolumeClaim,
  V1PodTemplateSpec,
  V1Secret,
  V1Service,
  V1StatefulSet,
} from '@kubernetes/client-node';
import { type ImageOptimizer, VALKEY_PERSISTENCE_DEFAULTS } from '../../api/image-optimizer.ts';
import { childMeta, childNames, PORTS, selectorLabels } from './names.ts';
import { baseContainer, podSecurity } from './pod.ts';
import { withPodSettings } from './pod-settings.ts';
import { componentService } from './service.ts';

/** The UID the official Valkey image runs as. */
const VALKEY_UID = 999;
export const VALKEY_PASSWORD_KEY = 'password';

const UNITS: Record<string, number> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
};

/** A quantity such as 256Mi in bytes (Valkey's maxmemory takes plain bytes). */
export function quantityBytes(quantity: string): number {
  const match = /^([0-9]+)(k|M|G|Ki|Mi|Gi)?$/.exec(quantity);
  const unit = UNITS[match?.[2] ?? ''];
  if (match === null || unit === undefined)
    throw new RangeError(
      `valkey.maxMemory "${quantity}" must be a whole number with k, M, G, Ki, Mi or Gi`,
    );
  return Number(match[1]) * unit;
}

/** The Secret with the Valkey password; the caller passes the existing password so it never changes. */
export function valkeySecret(cr: ImageOptimizer, password: string): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: childMeta(cr, childNames(cr.metadata.name).valkey, 'valkey'),
    type: 'Opaque',
    data: { [VALKEY_PASSWORD_KEY]: Buffer.from(password).toString('base64') },
  };
}

/** Valkey's flags: the password from the Secret, LRU under maxmemory, an AOF only when persistent. */
function valkeyArgs(cr: ImageOptimizer, persistent: boolean): string[] {
  return [
    'valkey-server',
    '--port',
    String(PORTS.valkey),
    // $(VAR) is expanded by the kubelet, so the password never appears in the pod spec.
    '--requirepass',
    '$(VALKEY_PASSWORD)',
    '--save',
    '',
    // Persistent: an append-only file on the claim, fsynced every second (at most a second lost).
    '--appendonly',
    persistent ? 'yes' : 'no',
    ...(persistent ? ['--appendfsync', 'everysec'] : []),
    '--maxmemory',
    String(quantityBytes(cr.spec.valkey.maxMemory)),
    '--maxmemory-policy',
    'allkeys-lru',
  ];
}

/** The Valkey pod: `/data` is an emptyDir, or the StatefulSet's claim when persistent. */
function valkeyPodTemplate(
  cr: ImageOptimizer,
  image: string,
  persistent: boolean,
): V1PodTemplateSpec {
  const name = childNames(cr.metadata.name).valkey;
  const labels = selectorLabels(cr.metadata.name, 'valkey');
  const template: V1PodTemplateSpec = {
    metadata: { labels },
    spec: {
      automountServiceAccountToken: false,
      securityContext: podSecurity(VALKEY_UID),
      containers: [
        {
          ...baseContainer('valkey', image, cr.spec.valkey.resources),
          args: valkeyArgs(cr, persistent),
          env: [
            {
              name: 'VALKEY_PASSWORD',
              valueFrom: { secretKeyRef: { name, key: VALKEY_PASSWORD_KEY } },
            },
          ],
          ports: [{ name: 'valkey', containerPort: PORTS.valkey, protocol: 'TCP' }],
          readinessProbe: { tcpSocket: { port: 'valkey' }, periodSeconds: 5 },
          livenessProbe: {
            tcpSocket: { port: 'valkey' },
            periodSeconds: 10,
            failureThreshold: 6,
          },
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
        },
      ],
      ...(persistent ? {} : { volumes: [{ name: 'data', emptyDir: {} }] }),
    },
  };
  // One Valkey pod: nothing to spread.
  return withPodSettings(template, cr.spec.valkey.pod);
}

/** A cache-only Valkey: no persistence, LRU eviction under maxmemory, password from the Secret. */
export function valkeyDeployment(cr: ImageOptimizer, image: string): V1Deployment {
  const labels = selectorLabels(cr.metadata.name, 'valkey');
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: childMeta(cr, childNames(cr.metadata.name).valkey, 'valkey'),
    spec: {
      replicas: 1,
      // Two Valkeys would split the cache; the old one goes before the new one starts.
      strategy: { type: 'Recreate' },
      selector: { matchLabels: labels },
      template: valkeyPodTemplate(cr, image, false),
    },
  };
}

/**
 * A persistent Valkey: one StatefulSet pod whose /data is a claim from the volumeClaimTemplate.
 * The claim goes with the StatefulSet (retention Delete), so turning persistence off, or
 * deleting the ImageOptimizer, leaves no PersistentVolumeClaim behind.
 */
export function valkeyStatefulSet(cr: ImageOptimizer, image: string): V1StatefulSet {
  const p = cr.spec.valkey.persistence;
  const labels = selectorLabels(cr.metadata.name, 'valkey');
  const claim: V1PersistentVolumeClaim = {
    metadata: { name: 'data', labels },
    spec: {
      accessModes: [...(p?.accessModes ?? VALKEY_PERSISTENCE_DEFAULTS.accessModes)],
      resources: { requests: { storage: p?.size ?? VALKEY_PERSISTENCE_DEFAULTS.size } },
      ...(p?.storageClassName === undefined ? {} : { storageClassName: p.storageClassName }),
    },
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: childMeta(cr, childNames(cr.metadata.name).valkey, 'valkey'),
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: valkeyPodTemplate(cr, image, true),
      volumeClaimTemplates: [claim],
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Retain' },
    },
  };
}

/** The Valkey workload: a StatefulSet with `valkey.persistence.enabled`, else a Deployment. */
export function valkeyWorkload(cr: ImageOptimizer, image: string): V1Deployment | V1StatefulSet {
  return cr.spec.valkey.persistence?.enabled === true
    ? valkeyStatefulSet(cr, image)
    : valkeyDeployment(cr, image);
}

/** The Valkey Service. */
export function valkeyService(cr: ImageOptimizer): V1Service {
  return componentService(cr, 'valkey', { name: 'valkey', port: PORTS.valkey });
}

/**
 * A NetworkPolicy in its JSON shape: client-node's model names the `from` field `_from`,
 * which would leak into `next-image render` output.
 */
export interface NetworkPolicy extends KubernetesObject {
  spec: {
    podSelector: V1LabelSelector;
    policyTypes: string[];
    ingress: Array<{
      from: Array<{ podSelector: V1LabelSelector }>;
      ports: Array<{ protocol: string; port: number }>;
    }>;
  };
}

/** Only this resource's optimizer pods may reach its Valkey. */
export function valkeyNetworkPolicy(cr: ImageOptimizer): NetworkPolicy {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: childMeta(cr, childNames(cr.metadata.name).valkey, 'valkey'),
    spec: {
      podSelector: { matchLabels: selectorLabels(cr.metadata.name, 'valkey') },
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [{ podSelector: { matchLabels: selectorLabels(cr.metadata.name, 'optimizer') } }],
          ports: [{ protocol: 'TCP', port: PORTS.valkey }],
        },
      ],
    },
  };
}
