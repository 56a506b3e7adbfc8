import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { assertBinaries, ensureBinaries } from './binaries.ts';
import { installCrds } from './crds.ts';
import { ControlPlaneError } from './errors.ts';
import { freePort } from './free-port.ts';
import { pollUntil, simpleRequest } from './http.ts';
import { generateServiceAccountKeys } from './keys.ts';
import { renderKubeconfig, tokenFileLine } from './kubeconfig.ts';
import {
  logTail,
  type ManagedProcess,
  removeOnExit,
  startProcess,
  startWatchdog,
} from './processes.ts';

/** A user the static token file authenticates, e.g. an operator's ServiceAccount. */
export interface TokenUser {
  readonly name: string;
  readonly groups: readonly string[];
}

/** Options of {@link startControlPlane}; every field is optional. */
export interface ControlPlaneOptions {
  /** Where the binaries are; default: build (or reuse) them with build.sh. */
  readonly binDir?: string;
  /** Extra static-token users; their tokens are in `ControlPlane.tokens`. */
  readonly tokenUsers?: readonly TokenUser[];
  /** Progress lines (default: stderr). */
  readonly log?: (line: string) => void;
  /** Start-up timeout per component (default 60 s). */
  readonly timeoutMs?: number;
  /** Start kube-controller-manager (default true). */
  readonly controllerManager?: boolean;
  /**
   * Keep the apiserver's watch cache (default false). With the cache, a watch resumed
   * from an old resourceVersion is served from a window of recent events that grows
   * while events are younger than 75 s, so compacting etcd cannot make it answer 410
   * Gone; without it, watches read etcd directly and `compactEtcd()` forces the 410
   * an informer must recover from.
   */
  readonly watchCache?: boolean;
  /**
   * YAML files whose CustomResourceDefinitions are applied before the controller-manager
   * starts. Its garbage collector rediscovers resource types only every 30 s, so a CRD
   * installed later is honoured as an owner only after up to ~40 s.
   */
  readonly crdFiles?: readonly string[];
}

/** A running etcd + kube-apiserver + kube-controller-manager on loopback. */
export interface ControlPlane {
  /** https://127.0.0.1:<port> */
  readonly server: string;
  /** An admin (system:masters) kubeconfig file inside `dir`. */
  readonly kubeconfigPath: string;
  /** The same kubeconfig as YAML text. */
  readonly kubeconfig: string;
  /** The admin kubeconfig loaded for @kubernetes/client-node. */
  readonly kubeConfig: KubeConfig;
  readonly adminToken: string;
  /** PEM bundle that verifies the apiserver's serving certificate. */
  readonly caPem: string;
  /** Static tokens by user name, for `options.tokenUsers`. */
  readonly tokens: ReadonlyMap<string, string>;
  /** etcd's client URL (plain HTTP on loopback), e.g. for compaction. */
  readonly etcdUrl: string;
  /** The temp dir holding data, keys and logs; removed by `stop()`. */
  readonly dir: string;
  readonly binDir: string;
  readonly pids: readonly number[];
  /** Stops KCM, apiserver, etcd by PID (SIGTERM, then SIGKILL) and removes `dir`. */
  stop(): Promise<void>;
}

const KCM_CONTROLLERS = [
  'garbage-collector-controller',
  'namespace-controller',
  'serviceaccount-controller',
  'deployment-controller',
  'replicaset-controller',
  'statefulset-controller',
  'endpointslice-controller',
  'root-ca-certificate-publisher-controller',
];

const token = (): string => randomBytes(24).toString('hex');

/** Starts a fresh control plane in a temp dir; always stops what it started on failure. */
export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`[control-plane] ${line}\n`));
  const binDir = opts.binDir ?? (await ensureBinaries());
  await assertBinaries(binDir);
  try {
    return await startOnce(opts, binDir, log);
  } catch (err) {
    // Free ports are picked by binding port 0 and closing it, so another process can
    // take one before our server binds it; one retry on fresh ports covers that race.
    if (!(err instanceof ControlPlaneError && /address already in use/.test(err.message)))
      throw err;
    log('a port was taken meanwhile; retrying on fresh ports');
    return startOnce(opts, binDir, log);
  }
}

async function startOnce(
  opts: ControlPlaneOptions,
  binDir: string,
  log: (line: string) => void,
): Promise<ControlPlane> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const started = Date.now();

  const dir = await mkdtemp(join(tmpdir(), 'next-image-cp-'));
  const pidFile = join(dir, 'pids');
  const forgetDir = removeOnExit(dir);
  const watchdog = startWatchdog(pidFile, dir);
  const procs: ManagedProcess[] = [];
  const run = (name: string, args: readonly string[]): ManagedProcess => {
    const proc = startProcess(name, join(binDir, name), args, join(dir, `${name}.log`));
    procs.push(proc);
    appendFileSync(pidFile, `${proc.pid}\n`);
    return proc;
  };
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    // Reverse start order: KCM, then apiserver, then etcd, each by its own PID.
    for (const proc of [...procs].reverse()) await proc.stop();
    await watchdog.stop();
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    forgetDir();
  };
  const failWith = async (proc: ManagedProcess, err: unknown): Promise<never> => {
    const tail = logTail(proc.logFile);
    await stop();
    throw new ControlPlaneError(
      'CP_NOT_READY',
      `${proc.name} did not become ready: ${err instanceof Error ? err.message : String(err)}\n` +
        `--- last lines of ${proc.name}.log ---\n${tail}`,
      { cause: err },
    );
  };

  try {
    const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const server = `https://127.0.0.1:${apiPort}`;

    const keys = generateServiceAccountKeys();
    const adminToken = token();
    const kcmToken = token();
    const tokens = new Map<string, string>();
    const lines = [
      tokenFileLine(adminToken, 'next-image-admin', ['system:masters']),
      // The bootstrap RBAC policy already binds this user name to the KCM's roles.
      tokenFileLine(kcmToken, 'system:kube-controller-manager', []),
    ];
    for (const user of opts.tokenUsers ?? []) {
      const value = token();
      tokens.set(user.name, value);
      lines.push(tokenFileLine(value, user.name, user.groups));
    }
    await mkdir(join(dir, 'pki'));
    await writeFile(join(dir, 'tokens.csv'), `${lines.join('\n')}\n`, { mode: 0o600 });
    await writeFile(join(dir, 'sa.key'), keys.privateKeyPem, { mode: 0o600 });
    await writeFile(join(dir, 'sa.pub'), keys.publicKeyPem);

    log(`starting etcd on ${etcdUrl}`);
    const etcd = run('etcd', [
      '--name=test',
      `--data-dir=${join(dir, 'etcd')}`,
      '--unsafe-no-fsync', // a throwaway cluster: durability costs time and buys nothing
      '--log-level=warn',
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-cluster=test=http://127.0.0.1:${peerPort}`,
    ]);
    await pollUntil(
      async () => (await simpleRequest(`${etcdUrl}/health`)).body.includes('"health":"true"'),
      { timeoutMs, abort: etcd.exited.then((r) => `etcd ended: ${r}`) },
    ).catch((err: unknown) => failWith(etcd, err));

    log(`starting kube-apiserver on ${server}`);
    const apiserver = run('kube-apiserver', [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--cert-dir=${join(dir, 'pki')}`, // the apiserver writes a self-signed serving cert here
      `--token-auth-file=${join(dir, 'tokens.csv')}`,
      '--authorization-mode=RBAC',
      '--service-cluster-ip-range=10.0.0.0/24',
      '--allow-privileged=true',
      `--service-account-issuer=${server}`,
      `--service-account-key-file=${join(dir, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
      // Endpoints may not hold loopback addresses, so the "kubernetes" Service's
      // endpoints cannot be reconciled here; nothing in tests needs them.
      '--endpoint-reconciler-type=none',
      ...(opts.watchCache === true ? [] : ['--watch-cache=false']),
    ]);
    const certFile = join(dir, 'pki', 'apiserver.crt');
    await pollUntil(
      async () => {
        if (!existsSync(certFile)) return false;
        const res = await simpleRequest(`${server}/readyz`, {
          caPem: readFileSync(certFile, 'utf8'),
          token: adminToken,
        });
        return res.status === 200;
      },
      { timeoutMs, abort: apiserver.exited.then((r) => `kube-apiserver ended: ${r}`) },
    ).catch((err: unknown) => failWith(apiserver, err));
    const caPem = readFileSync(certFile, 'utf8');

    const kubeconfig = renderKubeconfig({ server, caPem, token: adminToken, user: 'admin' });
    const kubeconfigPath = join(dir, 'admin.kubeconfig');
    await writeFile(kubeconfigPath, kubeconfig, { mode: 0o600 });

    if (opts.crdFiles !== undefined && opts.crdFiles.length > 0) {
      const names = await installCrds(
        { server, caPem, token: adminToken },
        opts.crdFiles,
        timeoutMs,
      ).catch((err: unknown) => failWith(apiserver, err));
      log(`installed CRDs: ${names.join(', ')}`);
    }

    if (opts.controllerManager !== false) {
      const kcmConfig = join(dir, 'kcm.kubeconfig');
      await writeFile(
        kcmConfig,
        renderKubeconfig({ server, caPem, token: kcmToken, user: 'kcm' }),
        { mode: 0o600 },
      );
      log('starting kube-controller-manager');
      const kcm = run('kube-controller-manager', [
        `--kubeconfig=${kcmConfig}`,
        `--authentication-kubeconfig=${kcmConfig}`,
        `--authorization-kubeconfig=${kcmConfig}`,
        '--bind-address=127.0.0.1',
        `--secure-port=${await freePort()}`,
        '--leader-elect=false',
        // As in real clusters: each controller acts as its own kube-system ServiceAccount
        // with the bootstrap system:controller:* roles; the KCM user alone may do little.
        '--use-service-account-credentials=true',
        `--controllers=${KCM_CONTROLLERS.join(',')}`,
        `--root-ca-file=${certFile}`,
        `--service-account-private-key-file=${join(dir, 'sa.key')}`,
      ]);
      // The serviceaccount controller creating "default" proves the KCM is working.
      await pollUntil(
        async () => {
          const res = await simpleRequest(
            `${server}/api/v1/namespaces/default/serviceaccounts/default`,
            { caPem, token: adminToken },
          );
          return res.status === 200;
        },
        { timeoutMs, abort: kcm.exited.then((r) => `kube-controller-manager ended: ${r}`) },
      ).catch((err: unknown) => failWith(kcm, err));
    }

    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromString(kubeconfig);
    log(`ready in ${Date.now() - started} ms; KUBECONFIG=${kubeconfigPath}`);
    return {
      server,
      kubeconfigPath,
      kubeconfig,
      kubeConfig,
      adminToken,
      caPem,
      tokens,
      etcdUrl,
      dir,
      binDir,
      pids: procs.map((p) => p.pid),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
