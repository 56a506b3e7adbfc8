import type {
  V1Container,
  V1PodSecurityContext,
  V1Probe,
  V1ResourceRequirements,
  V1SecurityContext,
} from '@kubernetes/client-node';
import type { Resources } from '../../api/image-optimizer.ts';

// The restricted Pod Security Standard, in one place for every pod the operator runs.

/** Pod-level security: non-root, RuntimeDefault seccomp. */
export function podSecurity(user?: number): V1PodSecurityContext {
  const ctx: V1PodSecurityContext = {
    runAsNonRoot: true,
    seccompProfile: { type: 'RuntimeDefault' },
  };
  if (user !== undefined) Object.assign(ctx, { runAsUser: user, runAsGroup: user, fsGroup: user });
  return ctx;
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

/** Fields every container of ours shares. */
export function baseContainer(name: string, image: string, resources: Resources): V1Container {
  return {
    name,
    image,
    securityContext: CONTAINER_SECURITY,
    resources: resourceRequirements(resources),
  };
}
