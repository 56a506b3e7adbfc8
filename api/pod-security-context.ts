import { z } from 'zod';

// securityContext overrides a user may put on our pods: the fields of a Pod's and a
// container's securityContext, each narrowed to what the `restricted` Pod Security Standard
// admits (https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted).
// The narrowing is in the types (enums, literals), so the API server rejects the same values
// through the generated CRD, and zod's messages name the rule.

const RESTRICTED = 'the restricted Pod Security Standard';
const INT32 = 2 ** 31 - 1;

/** Sysctls the restricted (and baseline) standard allows, as of Kubernetes 1.37. */
export const SAFE_SYSCTLS = [
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
] as const;

const SELINUX_TYPES = ['container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t'];

const profile = (what: string) =>
  z
    .strictObject({
      type: z
        .enum(['RuntimeDefault', 'Localhost'], {
          error: `${what}.type must be RuntimeDefault or Localhost: ${RESTRICTED} forbids Unconfined`,
        })
        .describe(
          "RuntimeDefault (the container runtime's profile) or Localhost; Unconfined is not allowed.",
        ),
      localhostProfile: z
        .string()
        .max(4096)
        .optional()
        .describe("With type Localhost: the profile's path on the node."),
    })
    .describe(`The ${what} of the pod's processes, as in a Pod spec (restricted: no Unconfined).`);

const SeLinuxOptionsSchema = z
  .strictObject({
    type: z
      .enum(SELINUX_TYPES, {
        error: `seLinuxOptions.type must be one of ${SELINUX_TYPES.join(', ')} (${RESTRICTED})`,
      })
      .optional()
      .describe(`SELinux type label; ${RESTRICTED} allows ${SELINUX_TYPES.join(', ')}.`),
    level: z.string().max(256).optional().describe('SELinux level label, e.g. s0:c123,c456.'),
  })
  .describe(`SELinux labels (type and level only: ${RESTRICTED} forbids setting user and role).`);

const runAsNonRoot = z
  .literal(true, { error: `runAsNonRoot must be true: ${RESTRICTED} forbids running as root` })
  .describe('Must be true (it is already): the kubelet refuses to start the container as root.');
const runAsUser = z
  .number({ error: 'runAsUser must be an integer' })
  .int()
  .min(1, { error: `runAsUser must not be 0: ${RESTRICTED} forbids running as root` })
  .max(INT32)
  .describe("The uid the processes run as (default: the image's, 65532; Valkey 999). Not 0.");
const runAsGroup = z
  .number()
  .int()
  .min(0)
  .max(INT32)
  .describe('The primary gid of the processes (default: the same as runAsUser).');

/** `pod.securityContext`: merged key by key over the operator's pod securityContext. */
export const PodSecurityContextSchema = z
  .strictObject({
    runAsNonRoot: runAsNonRoot.optional(),
    runAsUser: runAsUser.optional(),
    runAsGroup: runAsGroup.optional(),
    fsGroup: z
      .number()
      .int()
      .min(0)
      .max(INT32)
      .optional()
      .describe(
        'The gid that owns mounted volumes (default: the same as runAsUser; the config Secret is readable only through it).',
      ),
    fsGroupChangePolicy: z
      .enum(['OnRootMismatch', 'Always'])
      .optional()
      .describe(
        'When the kubelet changes volume ownership to fsGroup: OnRootMismatch or Always (default Always).',
      ),
    supplementalGroups: z
      .array(z.number().int().min(0).max(INT32))
      .max(32)
      .optional()
      .describe('Extra gids of the first process.'),
    seccompProfile: profile('seccompProfile').optional(),
    appArmorProfile: profile('appArmorProfile').optional(),
    seLinuxOptions: SeLinuxOptionsSchema.optional(),
    sysctls: z
      .array(
        z.strictObject({
          name: z
            .enum(SAFE_SYSCTLS, {
              error: `sysctls[].name must be a safe sysctl (${RESTRICTED}): ${SAFE_SYSCTLS.join(', ')}`,
            })
            .describe('A safe sysctl.'),
          value: z.string().max(256).describe('Its value.'),
        }),
      )
      .max(16)
      .optional()
      .describe('Namespaced sysctls for the pod; only the safe set is allowed.'),
  })
  .describe(
    "Overrides of the pod securityContext, key by key over the operator's (runAsNonRoot, uid/gid 65532 or 999, fsGroup, seccomp RuntimeDefault). Values outside the restricted Pod Security Standard are rejected.",
  );
export type PodSecurityContext = z.infer<typeof PodSecurityContextSchema>;

/** `pod.containerSecurityContext`: merged key by key over the operator's container securityContext. */
export const ContainerSecurityContextSchema = z
  .strictObject({
    allowPrivilegeEscalation: z
      .literal(false, {
        error: `allowPrivilegeEscalation must be false (${RESTRICTED})`,
      })
      .optional()
      .describe('Must be false (it is already).'),
    privileged: z
      .literal(false, { error: `privileged must be false (${RESTRICTED})` })
      .optional()
      .describe('Must be false.'),
    readOnlyRootFilesystem: z
      .boolean()
      .optional()
      .describe('Default true: every container writes only to its emptyDir or volume mounts.'),
    runAsNonRoot: runAsNonRoot.optional(),
    runAsUser: runAsUser.optional(),
    runAsGroup: runAsGroup.optional(),
    capabilities: z
      .strictObject({
        add: z
          .array(
            z.literal('NET_BIND_SERVICE', {
              error: `capabilities.add may hold only NET_BIND_SERVICE (${RESTRICTED})`,
            }),
          )
          .max(1)
          .optional()
          .describe('Capabilities to add; only NET_BIND_SERVICE is allowed.'),
      })
      .optional()
      .describe(
        'Linux capabilities: ALL are always dropped; only NET_BIND_SERVICE may be added back.',
      ),
    seccompProfile: profile('seccompProfile').optional(),
    appArmorProfile: profile('appArmorProfile').optional(),
    seLinuxOptions: SeLinuxOptionsSchema.optional(),
    procMount: z
      .literal('Default', { error: `procMount must be Default (${RESTRICTED})` })
      .optional()
      .describe('Must be Default.'),
  })
  .describe(
    "Overrides of the main container's securityContext, key by key over the operator's (no privilege escalation, ALL capabilities dropped, read-only root filesystem, seccomp RuntimeDefault). Values outside the restricted Pod Security Standard are rejected.",
  );
export type ContainerSecurityContext = z.infer<typeof ContainerSecurityContextSchema>;
