import { randomBytes } from 'node:crypto';
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ensureBinaries } from '../control-plane/binaries.ts';
import { controlPlanePaths } from '../control-plane/config.ts';
import { generateServiceAccountKeys } from '../control-plane/keys.ts';
import { renderKubeconfig, tokenFileLine } from '../control-plane/kubeconfig.ts';
import {
  logTail,
  type ManagedProcess,
  removeOnExit,
  startProcess,
  startWatchdog,
} from '../control-plane/processes.ts';
import {
  cniConflist,
  containerdConfig,
  coreDnsManifests,
  kubeletConfig,
  kubeProxyConfig,
  type NodePaths,
} from './configs.ts';
import { ClusterError } from './errors.ts';
import { pidsInNewCgroups, restoreHost, snapshotHost } from './host-state.ts';
import { type ImageArchive, importImages } from './images.ts';
import { createNetworkNamespace, type NetworkNamespace } from './netns.ts';
import { NETWORK } from './network.ts';
import { createPki } from './pki.ts';
import { type RunOptions, type RunResult, run } from './run.ts';
import { COREDNS_IMAGE, PAUSE_IMAGE, standInImages } from './stand-in-images.ts';

/** The binaries the cluster tier runs, beside the control plane's. */
export const CLUSTER_BINARIES = [
  'kubelet',
  'kube-scheduler',
  'kube-proxy',
  'kubectl',
  'coredns',
  'crictl',
];

/** Options of {@link startCluster}. */
export interface ClusterOptions {
  readonly log?: (line: string) => void;
  /** More images to import before the kubelet starts (the project's, the sample apps'). */
  readonly images?: readonly ImageArchive[];
  /** Per-component start-up timeout (default 120 s). */
  readonly timeoutMs?: number;
}

/** A running single-node cluster inside its own network namespace. */
export interface Cluster {
  readonly kubeconfigPath: string;
  /** For `nsenter --net=`: the only place the cluster's addresses exist. */
  readonly netnsPath: string;
  readonly containerdSocket: string;
  readonly binDir: string;
  readonly dir: string;
  /** kubectl with the admin kubeconfig, inside the namespace. */
  kubectl(args: readonly string[], opts?: RunOptions): Promise<RunResult>;
  /** Stops everything by PID and puts the host back; returns what could not be undone. */
  stop(): Promise<string[]>;
}

const token = (): string => randomBytes(24).toString('hex');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(
  what: string,
  timeoutMs: number,
  check: () => Promise<boolean>,
  abort?: () => string | undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const reason = abort?.();
    if (reason !== undefined) throw new ClusterError('CLUSTER_NOT_READY', `${what}: ${reason}`);
    try {
      if (await check()) return;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline)
      throw new ClusterError(
        'CLUSTER_NOT_READY',
        `${what}: not after ${timeoutMs / 1000} s${last ? ` (last error: ${last})` : ''}`,
      );
    await sleep(500);
  }
}

/** Checks what the tier needs from the machine before changing anything. */
async function preflight(): Promise<void> {
  if (process.getuid?.() !== 0)
    throw new ClusterError(
      'CLUSTER_NOT_ROOT',
      'the cluster tier runs containers and network namespaces: run it as root',
    );
  const tools = [
    'nsenter',
    'ip',
    'iptables',
    'containerd',
    'containerd-shim-runc-v2',
    'runc',
    'ctr',
    'openssl',
    'tar',
    'sysctl',
    'umount',
  ];
  const missing: string[] = [];
  for (const t of tools)
    if ((await run('sh', ['-c', `command -v ${t}`], { allowFailure: true })).code !== 0)
      missing.push(t);
  for (const p of ['bridge', 'host-local', 'portmap', 'loopback'])
    if ((await run('test', ['-x', `/usr/lib/cni/${p}`], { allowFailure: true })).code !== 0)
      missing.push(`/usr/lib/cni/${p}`);
  if (missing.length > 0)
    throw new ClusterError(
      'CLUSTER_TOOL_MISSING',
      `missing: ${missing.join(', ')} — install the Debian packages containerd runc iptables containernetworking-plugins util-linux iproute2 openssl (.ci/run does)`,
    );
}

/** Starts etcd, the control plane, containerd, kubelet, kube-proxy and CoreDNS in a new netns. */
export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`[cluster] ${line}\n`));
  const timeoutMs = opts.timeoutMs ?? 120_000;
  await preflight();
  const binDir = await ensureBinaries();
  for (const b of CLUSTER_BINARIES)
    if ((await run('test', ['-x', join(binDir, b)], { allowFailure: true })).code !== 0)
      throw new ClusterError(
        'CLUSTER_TOOL_MISSING',
        `${join(binDir, b)} is missing: run bash test/control-plane/build.sh`,
      );
  const cacheRoot = controlPlanePaths().cacheRoot;
  log('stand-in images (pause, CoreDNS)');
  const images = [
    ...(await standInImages(join(cacheRoot, 'images'), binDir)),
    ...(opts.images ?? []),
  ];

  const snapshot = snapshotHost();
  // Short: containerd's and the kubelet's unix sockets live under it (108-byte limit).
  const dir = await mkdtemp('/tmp/nio-');
  const logs = join(dir, 'logs');
  await mkdir(logs);
  const forgetDir = removeOnExit(dir);
  const pidFile = join(dir, 'pids');
  const watchdog = startWatchdog(pidFile, dir);
  const procs: ManagedProcess[] = [];
  let netns: NetworkNamespace | undefined;
  const n = NETWORK;

  const paths: NodePaths = {
    containerdRoot: join(dir, 'containerd', 'root'),
    containerdState: join(dir, 'containerd', 'state'),
    containerdSocket: join(dir, 'containerd', 'containerd.sock'),
    containerdOpt: join(dir, 'containerd', 'opt'),
    cniConfDir: join(dir, 'cni', 'net.d'),
    cniIpamDir: join(dir, 'cni', 'ipam'),
    kubeletRoot: join(dir, 'kubelet'),
    podLogsDir: join(dir, 'pod-logs'),
    resolvConf: join(dir, 'resolv.conf'),
    caCert: join(dir, 'pki', 'ca.crt'),
    kubeconfigKubelet: join(dir, 'kubelet.kubeconfig'),
    kubeconfigProxy: join(dir, 'kube-proxy.kubeconfig'),
  };
  const kubeconfigPath = join(dir, 'admin.kubeconfig');
  const kubectl = (args: readonly string[], o: RunOptions = {}): Promise<RunResult> =>
    run(join(binDir, 'kubectl'), ['--kubeconfig', kubeconfigPath, ...args], {
      ...o,
      netns: netns?.path,
    });

  const start = (name: string, bin: string, args: readonly string[]): ManagedProcess => {
    if (netns === undefined) throw new ClusterError('CLUSTER_NOT_READY', 'no namespace yet');
    // setsid: a terminal's Ctrl-C goes to the harness, which stops the daemons in order.
    const proc = startProcess(
      name,
      'setsid',
      ['nsenter', `--net=${netns.path}`, '--', bin, ...args],
      join(logs, `${name}.log`),
    );
    procs.push(proc);
    appendFileSync(pidFile, `${proc.pid}\n`);
    return proc;
  };
  const exitedOf = (proc: ManagedProcess): (() => string | undefined) => {
    let reason: string | undefined;
    void proc.exited.then((r) => {
      reason = `${proc.name} ended (${r}); last lines of its log:\n${logTail(proc.logFile)}`;
    });
    return () => reason;
  };

  let stopped = false;
  const stop = async (): Promise<string[]> => {
    if (stopped) return [];
    stopped = true;
    const problems: string[] = [];
    const byName = (name: string): ManagedProcess | undefined => procs.find((p) => p.name === name);
    // The kubelet first, so nothing restarts the pods; then every pod through the CRI,
    // which also tears their network namespaces and IP leases down.
    await byName('kubelet')?.stop();
    const containerd = byName('containerd');
    if (containerd !== undefined && netns !== undefined) {
      const crictl = (args: string[]): Promise<RunResult> =>
        run(
          join(binDir, 'crictl'),
          ['--runtime-endpoint', `unix://${paths.containerdSocket}`, '--timeout', '30s', ...args],
          {
            netns: netns?.path,
            allowFailure: true,
            timeoutMs: 90_000,
          },
        );
      const res = await crictl(['rmp', '--all', '--force']);
      if (res.code !== 0) problems.push(`crictl rmp: ${res.stderr.trim()}`);
    }
    // Shims outlive containerd (ours are the ones started with our socket), and a
    // container whose shim was killed outlives both: its cgroup (made by the kubelet
    // during this run) still names it.
    for (const pid of [...shimPids(paths.containerdSocket), ...pidsInNewCgroups(snapshot)]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    for (const proc of [...procs].reverse()) await proc.stop();
    await watchdog.stop();
    if (netns !== undefined) await netns.remove();
    problems.push(...(await restoreHost(snapshot, dir)));
    const keep = join(cacheRoot, 'cluster', 'last-logs');
    await rm(keep, { recursive: true, force: true });
    await cp(logs, keep, { recursive: true }).catch(() => undefined);
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    forgetDir();
    return problems;
  };

  try {
    netns = await createNetworkNamespace(`next-image-cluster-${process.pid}`, n);
    log(`network namespace ${netns.path} (node ${n.nodeIp})`);
    const pkiDir = join(dir, 'pki');
    await mkdir(pkiDir);
    const pki = await createPki({
      dir: pkiDir,
      nodeIp: n.nodeIp,
      apiServiceIp: n.apiServiceIp,
      clusterDomain: n.clusterDomain,
    });
    const keys = generateServiceAccountKeys();
    await writeFile(join(dir, 'sa.key'), keys.privateKeyPem, { mode: 0o600 });
    await writeFile(join(dir, 'sa.pub'), keys.publicKeyPem);
    const users = {
      admin: [token(), 'next-image-admin', ['system:masters']],
      kcm: [token(), 'system:kube-controller-manager', []],
      scheduler: [token(), 'system:kube-scheduler', []],
      proxy: [token(), 'system:kube-proxy', []],
      kubelet: [token(), `system:node:${n.nodeName}`, ['system:nodes']],
    } as const;
    await writeFile(
      join(dir, 'tokens.csv'),
      `${Object.values(users)
        .map(([t, u, g]) => tokenFileLine(t, u, g))
        .join('\n')}\n`,
      { mode: 0o600 },
    );
    const local = `https://127.0.0.1:${n.apiPort}`;
    const kubeconfig = (user: keyof typeof users, server = local): string =>
      renderKubeconfig({ server, caPem: pki.caPem, token: users[user][0], user });
    await writeFile(kubeconfigPath, kubeconfig('admin', `https://${n.nodeIp}:${n.apiPort}`), {
      mode: 0o600,
    });
    for (const u of ['kcm', 'scheduler'] as const)
      await writeFile(join(dir, `${u}.kubeconfig`), kubeconfig(u), { mode: 0o600 });
    await writeFile(paths.kubeconfigKubelet, kubeconfig('kubelet'), { mode: 0o600 });
    await writeFile(paths.kubeconfigProxy, kubeconfig('proxy'), { mode: 0o600 });

    log('etcd');
    const etcd = start('etcd', join(binDir, 'etcd'), [
      '--name=node',
      `--data-dir=${join(dir, 'etcd')}`,
      '--unsafe-no-fsync',
      '--log-level=warn',
      '--listen-client-urls=http://127.0.0.1:2379',
      '--advertise-client-urls=http://127.0.0.1:2379',
      '--listen-peer-urls=http://127.0.0.1:2380',
      '--initial-advertise-peer-urls=http://127.0.0.1:2380',
      '--initial-cluster=node=http://127.0.0.1:2380',
    ]);
    log('kube-apiserver');
    const apiserver = start('kube-apiserver', join(binDir, 'kube-apiserver'), [
      '--etcd-servers=http://127.0.0.1:2379',
      '--bind-address=0.0.0.0',
      `--advertise-address=${n.nodeIp}`,
      `--secure-port=${n.apiPort}`,
      `--tls-cert-file=${pki.apiserverCert}`,
      `--tls-private-key-file=${pki.apiserverKey}`,
      `--client-ca-file=${pki.caCert}`,
      `--token-auth-file=${join(dir, 'tokens.csv')}`,
      '--authorization-mode=Node,RBAC',
      '--enable-admission-plugins=NodeRestriction',
      `--service-cluster-ip-range=${n.serviceCidr}`,
      '--allow-privileged=true',
      `--service-account-issuer=https://kubernetes.default.svc.${n.clusterDomain}`,
      `--service-account-key-file=${join(dir, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
      `--kubelet-client-certificate=${pki.kubeletClientCert}`,
      `--kubelet-client-key=${pki.kubeletClientKey}`,
      '--kubelet-preferred-address-types=InternalIP',
      '--endpoint-reconciler-type=lease',
    ]);
    const apiGone = exitedOf(apiserver);
    const etcdGone = exitedOf(etcd);
    await until(
      'kube-apiserver /readyz',
      timeoutMs,
      async () => (await kubectl(['get', '--raw', '/readyz'], { allowFailure: true })).code === 0,
      () => etcdGone() ?? apiGone(),
    );

    log('kube-controller-manager, kube-scheduler');
    const kcmConfig = join(dir, 'kcm.kubeconfig');
    start('kube-controller-manager', join(binDir, 'kube-controller-manager'), [
      `--kubeconfig=${kcmConfig}`,
      `--authentication-kubeconfig=${kcmConfig}`,
      `--authorization-kubeconfig=${kcmConfig}`,
      '--bind-address=127.0.0.1',
      '--secure-port=10257',
      '--leader-elect=false',
      '--use-service-account-credentials=true',
      // Every controller a cluster runs by default (node-lifecycle, HPA, disruption,
      // endpoints, GC, ...); CSR signing with the cluster CA.
      '--controllers=*',
      `--cluster-signing-cert-file=${pki.caCert}`,
      `--cluster-signing-key-file=${pki.caKey}`,
      `--root-ca-file=${pki.caCert}`,
      `--service-account-private-key-file=${join(dir, 'sa.key')}`,
      `--service-cluster-ip-range=${n.serviceCidr}`,
      `--cluster-cidr=${n.clusterCidr}`,
      '--node-monitor-grace-period=20s',
    ]);
    const schedConfig = join(dir, 'scheduler.kubeconfig');
    start('kube-scheduler', join(binDir, 'kube-scheduler'), [
      `--kubeconfig=${schedConfig}`,
      `--authentication-kubeconfig=${schedConfig}`,
      `--authorization-kubeconfig=${schedConfig}`,
      '--bind-address=127.0.0.1',
      '--secure-port=10259',
      '--leader-elect=false',
    ]);

    log('containerd');
    for (const d of [
      paths.containerdRoot,
      paths.containerdState,
      paths.containerdOpt,
      paths.cniConfDir,
      paths.cniIpamDir,
      paths.kubeletRoot,
      paths.podLogsDir,
    ])
      await mkdir(d, { recursive: true });
    await writeFile(join(dir, 'containerd.toml'), containerdConfig(paths, PAUSE_IMAGE));
    await writeFile(join(paths.cniConfDir, '10-bridge.conflist'), cniConflist(n, paths.cniIpamDir));
    // Pods with dnsPolicy Default (CoreDNS) get this; there is no upstream DNS here.
    await writeFile(paths.resolvConf, 'nameserver 127.0.0.1\noptions ndots:1\n');
    const containerd = start('containerd', 'containerd', [
      '--config',
      join(dir, 'containerd.toml'),
    ]);
    const containerdGone = exitedOf(containerd);
    await until(
      'containerd',
      timeoutMs,
      async () =>
        (await run('ctr', ['--address', paths.containerdSocket, 'version'], { allowFailure: true }))
          .code === 0,
      containerdGone,
    );
    log(`importing ${images.length} images`);
    await importImages('ctr', paths.containerdSocket, images);

    log('kubelet, kube-proxy');
    await writeFile(join(dir, 'kubelet.yaml'), kubeletConfig(n, paths));
    const kubelet = start('kubelet', join(binDir, 'kubelet'), [
      `--config=${join(dir, 'kubelet.yaml')}`,
      `--kubeconfig=${paths.kubeconfigKubelet}`,
      `--root-dir=${paths.kubeletRoot}`,
      `--cert-dir=${join(dir, 'kubelet-pki')}`,
      `--node-ip=${n.nodeIp}`,
      `--hostname-override=${n.nodeName}`,
    ]);
    await writeFile(join(dir, 'kube-proxy.yaml'), kubeProxyConfig(n, paths));
    start('kube-proxy', join(binDir, 'kube-proxy'), [`--config=${join(dir, 'kube-proxy.yaml')}`]);
    const kubeletGone = exitedOf(kubelet);
    await until(
      `node ${n.nodeName} Ready`,
      timeoutMs,
      async () =>
        (
          await kubectl(
            [
              'get',
              'node',
              n.nodeName,
              '-o',
              'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
            ],
            { allowFailure: true },
          )
        ).stdout === 'True',
      kubeletGone,
    );

    log('CoreDNS');
    const manifests = coreDnsManifests(n, COREDNS_IMAGE)
      .map((m) => stringify(m))
      .join('---\n');
    await kubectl(['apply', '--server-side', '-f', '-'], { input: manifests });
    await until(
      'CoreDNS Ready',
      timeoutMs,
      async () => {
        const res = await kubectl(
          ['-n', 'kube-system', 'rollout', 'status', 'deployment/coredns', '--timeout=5s'],
          { allowFailure: true },
        );
        return res.code === 0;
      },
      kubeletGone,
    );
    await until('CoreDNS answers kubernetes.default.svc', timeoutMs, async () => {
      const res = await run(
        process.execPath,
        [
          '-e',
          `require('node:dns').promises.Resolver.prototype; const r = new (require('node:dns').promises.Resolver)(); r.setServers(['${n.dnsServiceIp}']); r.resolve4('kubernetes.default.svc.${n.clusterDomain}').then(a => { console.log(a.join(',')); }, e => { console.error(e.code); process.exit(1); });`,
        ],
        { netns: netns?.path, allowFailure: true, timeoutMs: 10_000 },
      );
      return res.code === 0 && res.stdout.trim() === n.apiServiceIp;
    });
    log('ready');
    return {
      kubeconfigPath,
      netnsPath: netns.path,
      containerdSocket: paths.containerdSocket,
      binDir,
      dir,
      kubectl,
      stop,
    };
  } catch (err) {
    const problems = await stop();
    if (problems.length > 0) log(`cleanup left: ${problems.join('; ')}`);
    throw err;
  }
}

/** PIDs of containerd shims serving our socket (found by their command line). */
function shimPids(socket: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmd[0]?.endsWith('containerd-shim-runc-v2') && cmd.includes(socket))
        out.push(Number(entry));
    } catch {
      // gone
    }
  }
  return out;
}
