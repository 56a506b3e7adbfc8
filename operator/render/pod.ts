import type {
  V1Container,
  V1ContainerPort,
  V1PodSecurityContext,
  V1PodTemplateSpec,
  V1Probe,
  V1ResourceRequirements,
  V1SecurityContext,
  V1Volume,
  V1VolumeMount,
} from '@kubernetes/client-node';
import type { Resources } from '../../api/image-optimizer.ts';
import { CONFIG_DIR, CONFIG_HASH_ANNOTATION } from './names.ts';

// The restricted Pod Security Standard, in one place for every pod the operator runs.

/** The uid and gid of the next-image image (the Dockerfile's `USER`, distroless `nonroot`). */
export const IMAGE_UID = 65532;

/**
 * Pod-level security: non-root as `user`, RuntimeDefault seccomp. `fsGroup` is always set:
 * volumes such as the optimizer's config Secret (mode 0440, owner root) are readable only
 * through the group the kubelet gives them, and without it the optimizer crash-looped on
 * EACCES. The uid is explicit too, so the kubelet checks runAsNonRoot whatever image runs.
 */
export function podSecurity(user: number): V1PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: user,
    runAsGroup: user,
    fsGroup: user,
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** Container-level security: no escalation, no capabilities, read-only root filesystem. */
export const CONTAINER_SECURITY: V1SecurityContext = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

/** An HTTP GET probe on a named port. */
export function httpProbe(
  path: string,
  port: string,
  periodSeconds: number,
  failureThreshold: number,
): V1Probe {
  return { httpGet: { path, port }, periodSeconds, timeoutSeconds: 2, failureThreshold };
}

/** The CR's resources as a ResourceRequirements (only the keys that are set). */
export function resourceRequirements(resources: Resources): V1ResourceRequirements {
  const out: V1ResourceRequirements = {};
  if (resources.requests !== undefined)
    out.requests = { ...resources.requests } as Record<string, string>;
  if (resources.limits !== undefined)
    out.limits = { ...resources.limits } as Record<string, string>;
  return out;
}

/** How long a gateway or optimizer pod keeps serving after it is told to stop. */
export const PRE_STOP_SLEEP_SECONDS = 5;

/** Fields every container of ours shares. */
export function baseContainer(name: string, image: string, resources: Resources): V1Container {
  return {
    name,
    image,
    securityContext: CONTAINER_SECURITY,
    resources: resourceRequirements(resources),
  };
}

/** What differs between the pods of our own HTTP services (the gateway and the optimizer). */
export interface ServicePod {
  /** The container name and the CLI subcommand; the config file is `<command>.json`. */
  command: 'gateway' | 'optimizer';
  image: string;
  resources: Resources;
  labels: Record<string, string>;
  configHash: string;
  /** The port the service listens on (`--port`). */
  port: number;
  ports: V1ContainerPort[];
  /** The named port that serves /readyz and /healthz. */
  probePort: string;
  /** The source of the `config` volume (a ConfigMap or a Secret). */
  configSource: Omit<V1Volume, 'name'>;
  tmpSizeLimit: string;
  /** Volumes and mounts after `config` and `tmp`. */
  extraVolumes?: V1Volume[];
  extraMounts?: V1VolumeMount[];
}

/** The pod template of one of our HTTP services: config mounted read-only, rolled by its hash. */
export function servicePodTemplate(pod: ServicePod): V1PodTemplateSpec {
  return {
    metadata: { labels: pod.labels, annotations: { [CONFIG_HASH_ANNOTATION]: pod.configHash } },
    spec: {
      automountServiceAccountToken: false,
      securityContext: podSecurity(IMAGE_UID),
      terminationGracePeriodSeconds: 30,
      containers: [
        {
          ...baseContainer(pod.command, pod.image, pod.resources),
          args: [
            pod.command,
            '--config',
            `${CONFIG_DIR}/${pod.command}.json`,
            '--host',
            '0.0.0.0',
            '--port',
            String(pod.port),
          ],
          ports: pod.ports,
          // The Service drops a terminating pod from its endpoints a moment after the kubelet
          // starts stopping it; until kube-proxy (or the gateway's pool) catches up, new
          // connections still arrive. Serving them for a few seconds before SIGTERM makes a
          // pod's removal invisible to clients (the kubelet's own sleep: no shell needed).
          lifecycle: { preStop: { sleep: { seconds: PRE_STOP_SLEEP_SECONDS } } },
          readinessProbe: httpProbe('/readyz', pod.probePort, 5, 3),
          livenessProbe: httpProbe('/healthz', pod.probePort, 10, 6),
          volumeMounts: [
            { name: 'config', mountPath: CONFIG_DIR, readOnly: true },
            { name: 'tmp', mountPath: '/tmp' },
            ...(pod.extraMounts ?? []),
          ],
        },
      ],
      volumes: [
        { name: 'config', ...pod.configSource },
        { name: 'tmp', emptyDir: { sizeLimit: pod.tmpSizeLimit } },
        ...(pod.extraVolumes ?? []),
      ],
    },
  };
}
