import type {
  V1Container,
  V1LifecycleHandler,
  V1PodSpec,
  V1PodTemplateSpec,
  V1Probe,
  V1SELinuxOptions,
} from '@kubernetes/client-node';

// The `restricted` Pod Security Standard (Kubernetes 1.37, the version of the control-plane
// tier) as a pure function over a pod template: every check the PodSecurity admission runs
// at that level, baseline checks included. Written from the standard's text and the
// admission's documented rules, so a unit test can say which field breaks which rule without
// an API server; the control-plane tier asks the real admission the same question.
// Linux pods only: the Windows exemptions (spec.os.name: windows) are applied as the
// admission applies them, but nothing of ours runs on Windows.

/** One broken rule: the check's name, the field that breaks it and what it must be. */
export interface Violation {
  check: string;
  field: string;
  message: string;
}

/** A pod template or a pod: what the checks read. */
export type PodLike = Pick<V1PodTemplateSpec, 'metadata' | 'spec'>;

interface Located {
  container: V1Container;
  /** e.g. `spec.containers[0]`. */
  path: string;
}

const CONTAINER_LISTS = ['containers', 'initContainers', 'ephemeralContainers'] as const;

/** Every container of the pod with its field path (ephemeral containers too). */
function containersOf(spec: V1PodSpec): Located[] {
  const out: Located[] = [];
  for (const list of CONTAINER_LISTS) {
    const containers = (spec[list] ?? []) as V1Container[];
    containers.forEach((container, i) => {
      out.push({ container, path: `spec.${list}[${i}]` });
    });
  }
  return out;
}

const label = (c: Located): string => `container "${c.container.name}"`;

/** Volume sources the restricted level allows (inline sources not backed by a PV are not). */
const ALLOWED_VOLUME_TYPES = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'image',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);

/** Capabilities baseline lets a container add; restricted allows only NET_BIND_SERVICE. */
const RESTRICTED_ADDABLE = new Set(['NET_BIND_SERVICE']);

/** The safe sysctls as of Kubernetes 1.37. */
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
  'net.ipv4.tcp_rmem',
  'net.ipv4.tcp_wmem',
  'net.ipv4.tcp_slow_start_after_idle',
  'net.ipv4.tcp_notsent_lowat',
]);

const SELINUX_TYPES = new Set([
  '',
  'container_t',
  'container_init_t',
  'container_kvm_t',
  'container_engine_t',
]);

const APPARMOR_ANNOTATION = 'container.apparmor.security.beta.kubernetes.io/';
const GOOD_PROFILE_TYPES = new Set(['RuntimeDefault', 'Localhost']);

type Check = (pod: PodLike, spec: V1PodSpec, containers: Located[]) => Violation[];

const v = (check: string, field: string, message: string): Violation => ({
  check,
  field,
  message: `${field} ${message}`,
});

/** A pod in a user namespace (hostUsers: false) is exempt from the non-root checks. */
const userNamespaced = (spec: V1PodSpec): boolean => spec.hostUsers === false;
const windows = (spec: V1PodSpec): boolean => spec.os?.name === 'windows';

const hostProcess: Check = (_pod, spec, containers) => {
  const out: Violation[] = [];
  if (spec.securityContext?.windowsOptions?.hostProcess === true)
    out.push(
      v('hostProcess', 'spec.securityContext.windowsOptions.hostProcess', 'must not be true'),
    );
  for (const c of containers)
    if (c.container.securityContext?.windowsOptions?.hostProcess === true)
      out.push(
        v(
          'hostProcess',
          `${c.path}.securityContext.windowsOptions.hostProcess`,
          `must not be true (${label(c)})`,
        ),
      );
  return out;
};

const hostNamespaces: Check = (_pod, spec) =>
  (['hostNetwork', 'hostPID', 'hostIPC'] as const)
    .filter((key) => spec[key] === true)
    .map((key) => v('hostNamespaces', `spec.${key}`, 'must be unset or false'));

const privileged: Check = (_pod, _spec, containers) =>
  containers
    .filter((c) => c.container.securityContext?.privileged === true)
    .map((c) =>
      v(
        'privileged',
        `${c.path}.securityContext.privileged`,
        `must be unset or false (${label(c)})`,
      ),
    );

const capabilities: Check = (_pod, spec, containers) => {
  if (windows(spec)) return [];
  const out: Violation[] = [];
  for (const c of containers) {
    const caps = c.container.securityContext?.capabilities;
    if (!(caps?.drop ?? []).includes('ALL'))
      out.push(
        v(
          'capabilities',
          `${c.path}.securityContext.capabilities.drop`,
          `must include "ALL" (${label(c)})`,
        ),
      );
    const added = (caps?.add ?? []).filter((cap) => !RESTRICTED_ADDABLE.has(cap));
    if (added.length > 0)
      out.push(
        v(
          'capabilities',
          `${c.path}.securityContext.capabilities.add`,
          `may hold only NET_BIND_SERVICE, not ${added.join(', ')} (${label(c)})`,
        ),
      );
  }
  return out;
};

const volumes: Check = (_pod, spec) => {
  const out: Violation[] = [];
  (spec.volumes ?? []).forEach((volume, i) => {
    const types = Object.entries(volume)
      .filter(([key, value]) => key !== 'name' && value !== undefined && value !== null)
      .map(([key]) => key);
    const bad = types.filter((t) => !ALLOWED_VOLUME_TYPES.has(t));
    if (bad.length > 0)
      out.push(
        v(
          'volumes',
          `spec.volumes[${i}].${bad.join(', ')}`,
          `is not an allowed volume type (volume "${volume.name}"; allowed: ${[...ALLOWED_VOLUME_TYPES].join(', ')})`,
        ),
      );
  });
  return out;
};

const hostPorts: Check = (_pod, _spec, containers) => {
  const out: Violation[] = [];
  for (const c of containers)
    (c.container.ports ?? []).forEach((port, i) => {
      if (port.hostPort !== undefined && port.hostPort !== 0)
        out.push(
          v('hostPorts', `${c.path}.ports[${i}].hostPort`, `must be unset or 0 (${label(c)})`),
        );
    });
  return out;
};

const appArmor: Check = (pod, spec, containers) => {
  const out: Violation[] = [];
  const podType = spec.securityContext?.appArmorProfile?.type;
  if (podType !== undefined && !GOOD_PROFILE_TYPES.has(podType))
    out.push(
      v(
        'appArmor',
        'spec.securityContext.appArmorProfile.type',
        'must be unset, RuntimeDefault or Localhost',
      ),
    );
  for (const c of containers) {
    const type = c.container.securityContext?.appArmorProfile?.type;
    if (type !== undefined && !GOOD_PROFILE_TYPES.has(type))
      out.push(
        v(
          'appArmor',
          `${c.path}.securityContext.appArmorProfile.type`,
          `must be unset, RuntimeDefault or Localhost (${label(c)})`,
        ),
      );
  }
  for (const [key, value] of Object.entries(pod.metadata?.annotations ?? {}))
    if (
      key.startsWith(APPARMOR_ANNOTATION) &&
      value !== '' &&
      value !== 'runtime/default' &&
      !value.startsWith('localhost/')
    )
      out.push(
        v(
          'appArmor',
          `metadata.annotations["${key}"]`,
          'must be unset, runtime/default or localhost/<profile>',
        ),
      );
  return out;
};

function seLinuxProblems(options: V1SELinuxOptions | undefined): string[] {
  if (options === undefined) return [];
  const out: string[] = [];
  if (!SELINUX_TYPES.has(options.type ?? ''))
    out.push(`type must be one of ${[...SELINUX_TYPES].filter((t) => t !== '').join(', ')}`);
  if ((options.user ?? '') !== '') out.push('user must be unset');
  if ((options.role ?? '') !== '') out.push('role must be unset');
  return out;
}

const seLinux: Check = (_pod, spec, containers) => {
  const out = seLinuxProblems(spec.securityContext?.seLinuxOptions).map((p) =>
    v('seLinux', 'spec.securityContext.seLinuxOptions', p),
  );
  for (const c of containers)
    for (const p of seLinuxProblems(c.container.securityContext?.seLinuxOptions))
      out.push(v('seLinux', `${c.path}.securityContext.seLinuxOptions`, `${p} (${label(c)})`));
  return out;
};

const procMount: Check = (_pod, _spec, containers) =>
  containers
    .filter((c) => {
      const mount = c.container.securityContext?.procMount;
      return mount !== undefined && mount !== 'Default';
    })
    .map((c) =>
      v(
        'procMount',
        `${c.path}.securityContext.procMount`,
        `must be unset or Default (${label(c)})`,
      ),
    );

const seccomp: Check = (_pod, spec, containers) => {
  if (windows(spec)) return [];
  const out: Violation[] = [];
  const podType = spec.securityContext?.seccompProfile?.type;
  const podSet = podType !== undefined && GOOD_PROFILE_TYPES.has(podType);
  if (podType !== undefined && !podSet)
    out.push(
      v(
        'seccomp',
        'spec.securityContext.seccompProfile.type',
        'must be RuntimeDefault or Localhost',
      ),
    );
  for (const c of containers) {
    const type = c.container.securityContext?.seccompProfile?.type;
    const field = `${c.path}.securityContext.seccompProfile.type`;
    if (type !== undefined && !GOOD_PROFILE_TYPES.has(type))
      out.push(v('seccomp', field, `must be RuntimeDefault or Localhost (${label(c)})`));
    else if (type === undefined && !podSet)
      out.push(
        v(
          'seccomp',
          field,
          `must be RuntimeDefault or Localhost, here or in spec.securityContext (${label(c)})`,
        ),
      );
  }
  return out;
};

const sysctls: Check = (_pod, spec) => {
  const out: Violation[] = [];
  (spec.securityContext?.sysctls ?? []).forEach((sysctl, i) => {
    if (!SAFE_SYSCTLS.has(sysctl.name))
      out.push(
        v(
          'sysctls',
          `spec.securityContext.sysctls[${i}].name`,
          `"${sysctl.name}" is not a safe sysctl`,
        ),
      );
  });
  return out;
};

const privilegeEscalation: Check = (_pod, spec, containers) => {
  if (windows(spec)) return [];
  return containers
    .filter((c) => c.container.securityContext?.allowPrivilegeEscalation !== false)
    .map((c) =>
      v(
        'allowPrivilegeEscalation',
        `${c.path}.securityContext.allowPrivilegeEscalation`,
        `must be false (${label(c)})`,
      ),
    );
};

const runAsNonRoot: Check = (_pod, spec, containers) => {
  if (userNamespaced(spec)) return [];
  const out: Violation[] = [];
  const podValue = spec.securityContext?.runAsNonRoot;
  if (podValue === false)
    out.push(v('runAsNonRoot', 'spec.securityContext.runAsNonRoot', 'must not be false'));
  for (const c of containers) {
    const value = c.container.securityContext?.runAsNonRoot;
    const field = `${c.path}.securityContext.runAsNonRoot`;
    if (value === false) out.push(v('runAsNonRoot', field, `must not be false (${label(c)})`));
    else if (value === undefined && podValue !== true)
      out.push(
        v('runAsNonRoot', field, `must be true, here or in spec.securityContext (${label(c)})`),
      );
  }
  return out;
};

const runAsUser: Check = (_pod, spec, containers) => {
  if (userNamespaced(spec)) return [];
  const out: Violation[] = [];
  if (spec.securityContext?.runAsUser === 0)
    out.push(v('runAsUser', 'spec.securityContext.runAsUser', 'must not be 0'));
  for (const c of containers)
    if (c.container.securityContext?.runAsUser === 0)
      out.push(
        v('runAsUser', `${c.path}.securityContext.runAsUser`, `must not be 0 (${label(c)})`),
      );
  return out;
};

function handlerHosts(
  handler: V1Probe | V1LifecycleHandler | undefined,
  path: string,
): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const httpHost = handler?.httpGet?.host;
  const tcpHost = handler?.tcpSocket?.host;
  if (httpHost !== undefined && httpHost !== '') out.push([`${path}.httpGet.host`, httpHost]);
  if (tcpHost !== undefined && tcpHost !== '') out.push([`${path}.tcpSocket.host`, tcpHost]);
  return out;
}

const probeHosts: Check = (_pod, _spec, containers) => {
  const out: Violation[] = [];
  for (const c of containers) {
    const { livenessProbe, readinessProbe, startupProbe, lifecycle } = c.container;
    const hosts = [
      ...handlerHosts(livenessProbe, `${c.path}.livenessProbe`),
      ...handlerHosts(readinessProbe, `${c.path}.readinessProbe`),
      ...handlerHosts(startupProbe, `${c.path}.startupProbe`),
      ...handlerHosts(lifecycle?.postStart, `${c.path}.lifecycle.postStart`),
      ...handlerHosts(lifecycle?.preStop, `${c.path}.lifecycle.preStop`),
    ];
    for (const [field, host] of hosts)
      out.push(v('probeHosts', field, `must be unset, not "${host}" (${label(c)})`));
  }
  return out;
};

/** Every check of the restricted level, baseline's included, in the standard's order. */
const CHECKS: Check[] = [
  hostProcess,
  hostNamespaces,
  privileged,
  capabilities,
  volumes,
  hostPorts,
  appArmor,
  seLinux,
  procMount,
  seccomp,
  sysctls,
  probeHosts,
  privilegeEscalation,
  runAsNonRoot,
  runAsUser,
];

/** The ways `pod` breaks the restricted Pod Security Standard; empty when it passes. */
export function restrictedViolations(pod: PodLike): Violation[] {
  const spec = pod.spec;
  if (spec === undefined)
    return [{ check: 'spec', field: 'spec', message: 'spec is missing: nothing to check' }];
  const containers = containersOf(spec);
  return CHECKS.flatMap((check) => check(pod, spec, containers));
}

/** Beyond the standard, our own rule: every container's root filesystem is read-only. */
export function writableRootFilesystems(pod: PodLike): string[] {
  return containersOf(pod.spec ?? { containers: [] })
    .filter((c) => c.container.securityContext?.readOnlyRootFilesystem !== true)
    .map((c) => `${c.path}.securityContext.readOnlyRootFilesystem must be true (${label(c)})`);
}

/** Volume sources a container can write to (configMap, secret, projected... are read-only). */
const WRITABLE_VOLUME_TYPES = ['emptyDir', 'persistentVolumeClaim', 'ephemeral', 'csi'] as const;

/** Where each container can write: `<container>:<mountPath>` of every writable volume mount. */
export function writableMounts(pod: PodLike): string[] {
  const spec = pod.spec ?? { containers: [] };
  const writable = new Set(
    (spec.volumes ?? [])
      .filter((vol) => WRITABLE_VOLUME_TYPES.some((t) => vol[t] !== undefined))
      .map((vol) => vol.name),
  );
  return containersOf(spec).flatMap((c) =>
    (c.container.volumeMounts ?? [])
      .filter((m) => m.readOnly !== true && writable.has(m.name))
      .map((m) => `${c.container.name}:${m.mountPath}`),
  );
}
