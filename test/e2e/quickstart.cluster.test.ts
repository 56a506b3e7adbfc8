import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeEach, describe, expect, it, onTestFailed } from 'vitest';
import { cluster, inCluster, kubectl } from '../cluster/context.ts';
import { eventually as poll } from '../control-plane/wait-for.ts';
import type { LoadReport, Reply } from './client.ts';

// The user story on real pods, in the order docs/quickstart.md gives it: helm install the
// chart, the sample Next.js app and an ImageOptimizer in a restricted namespace, images
// through the gateway, scale-out with Valkey, pods dying under load, a config roll, an
// operator failover, and the clean-up. Each step is one test; they share the cluster and
// run in order (a later step needs what an earlier one made, and says so when it fails).
// HTTP requests run inside the cluster's network namespace (client.ts), where Service and
// pod addresses exist.

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLIENT = join(ROOT, 'test/e2e/client.ts');
const OPERATOR_NS = 'next-image-system';
const NS = `e2e-${Date.now().toString(36)}`;
const CR = 'images';
/** A width the sample page's srcset uses and Next's defaults allow. */
const W = 828;
const IMAGE_ACCEPT = 'accept=image/avif,image/webp,*/*';

const report: Record<string, unknown> = {};

const helm = (args: readonly string[], timeoutMs = 300_000) =>
  inCluster(`${cluster().binDir}/helm`, [...args, '--kubeconfig', cluster().kubeconfigPath], {
    timeoutMs,
  });

async function client<T>(args: readonly string[]): Promise<T> {
  const out = await inCluster(process.execPath, [CLIENT, ...args], { timeoutMs: 120_000 });
  return JSON.parse(out.stdout) as T;
}

const json = async <T>(args: readonly string[]): Promise<T> =>
  JSON.parse((await kubectl([...args, '-o', 'json'])).stdout) as T;

/** `kubectl patch --type=merge` of the ImageOptimizer's spec. */
const patchSpec = (spec: object) =>
  kubectl([
    '-n',
    NS,
    'patch',
    'imageoptimizer',
    CR,
    '--type=merge',
    '-p',
    JSON.stringify({ spec }),
  ]);

/** `kubectl apply` of a manifest text into the test namespace. */
const apply = (yaml: string) => kubectl(['-n', NS, 'apply', '-f', '-'], { input: yaml });

/** The control-plane tier's poll, with the e2e's argument order and a longer default wait. */
const eventually = <T>(what: string, check: () => Promise<T | undefined>, ms = 180_000) =>
  poll(check, what, ms);

let gatewayUrl = '';
const image = (url: string, w = W, q = 75) =>
  `${gatewayUrl}/_next/image?url=${encodeURIComponent(url)}&w=${w}&q=${q}`;

/** The load's URL, with client.ts's `{i}` placeholder left unescaped. */
const LOAD_TEMPLATE = () => image('/photos/loadNNN.jpg').replace('NNN', '{i}');

interface Deployment {
  metadata: { generation: number };
  spec: { replicas: number; selector: { matchLabels: Record<string, string> } };
  status: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
  };
}

/**
 * Waits until deployment `name` has rolled out completely to `replicas` ready pods and the
 * old ones are gone: a terminating pod still serves its old config during its preStop sleep.
 */
async function rolledOut(name: string, replicas?: number): Promise<void> {
  await eventually(`deployment ${name} rolled out, old pods gone`, async () => {
    const d = await json<Deployment>(['-n', NS, 'get', 'deployment', name]);
    const selector = Object.entries(d.spec.selector.matchLabels)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    const pods = await json<{ items: unknown[] }>(['-n', NS, 'get', 'pods', '-l', selector]);
    if (pods.items.length !== (replicas ?? d.spec.replicas)) return undefined;
    const want = replicas ?? d.spec.replicas;
    const s = d.status;
    return s.observedGeneration === d.metadata.generation &&
      d.spec.replicas === want &&
      s.replicas === want &&
      s.updatedReplicas === want &&
      s.readyReplicas === want &&
      s.availableReplicas === want
      ? true
      : undefined;
  });
}

interface CrStatus {
  metadata: { generation: number };
  status?: { observedGeneration?: number; conditions?: { type: string; status: string }[] };
}

/** Waits until the CR's current generation is observed and Ready, and both workloads rolled. */
async function crSettled(replicas?: number): Promise<void> {
  await eventually('the ImageOptimizer observed and Ready', async () => {
    const cr = await json<CrStatus>(['-n', NS, 'get', 'imageoptimizer', CR]);
    const ready = cr.status?.conditions?.find((c) => c.type === 'Ready')?.status;
    return cr.status?.observedGeneration === cr.metadata.generation && ready === 'True'
      ? true
      : undefined;
  });
  await rolledOut(`${CR}-optimizer`, replicas);
  await rolledOut(`${CR}-gateway`);
}

/** The frontend's own count of requests per /photos/ path (source side). */
const frontendCounts = async (): Promise<Record<string, number>> => {
  const ip = (
    await kubectl(['-n', NS, 'get', 'service', 'frontend', '-o', 'jsonpath={.spec.clusterIP}'])
  ).stdout;
  return JSON.parse((await client<Reply>(['get', `http://${ip}/source-requests`])).text) as Record<
    string,
    number
  >;
};

/** Running (not terminating) pods of one component of the ImageOptimizer: name and IP. */
async function componentPods(
  component: 'optimizer' | 'gateway',
): Promise<{ name: string; ip: string }[]> {
  const pods = await json<{
    items: {
      metadata: { name: string; deletionTimestamp?: string };
      status: { podIP?: string; phase: string };
    }[];
  }>([
    '-n',
    NS,
    'get',
    'pods',
    '-l',
    `app.kubernetes.io/instance=${CR},app.kubernetes.io/component=${component}`,
  ]);
  return pods.items
    .filter(
      (p) =>
        p.metadata.deletionTimestamp === undefined &&
        p.status.phase === 'Running' &&
        p.status.podIP,
    )
    .map((p) => ({ name: p.metadata.name, ip: p.status.podIP ?? '' }));
}
const optimizerPods = () => componentPods('optimizer');

/** A counter summed over every pod of `component`, read from its /metrics on `port`. */
async function counterSum(
  component: 'optimizer' | 'gateway',
  port: number,
  metric: string,
): Promise<number> {
  let sum = 0;
  for (const pod of await componentPods(component)) {
    const text = (await client<Reply>(['get', `http://${pod.ip}:${port}/metrics`])).text;
    for (const line of text.split('\n'))
      if (line.startsWith(`${metric} `) || line.startsWith(`${metric}{`))
        sum += Number(line.split(' ').at(-1));
  }
  return sum;
}
const transforms = () => counterSum('optimizer', 3000, 'next_image_transforms_total');
const gatewayRetries = () => counterSum('gateway', 3043, 'gateway_upstream_retries_total');

/** A `client.ts load` run through the gateway; `stop()` ends it and returns its counts. */
function startLoad(template: string): { stop: () => Promise<LoadReport> } {
  const child: ChildProcess = spawn(
    'nsenter',
    [
      `--net=${cluster().netnsPath}`,
      '--',
      process.execPath,
      CLIENT,
      'load',
      template,
      IMAGE_ACCEPT,
    ],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  loads.add(child);
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    stop: async () => {
      child.stdin?.end();
      await exited;
      loads.delete(child);
      return JSON.parse(out) as LoadReport;
    },
  };
}
const loads = new Set<ChildProcess>();

afterAll(async () => {
  for (const child of loads) child.kill('SIGKILL');
  console.log(`e2e report: ${JSON.stringify(report, null, 2)}`);
  // Whatever a failed step left: the namespace (and so every workload in it), the release.
  await kubectl(['delete', 'namespace', NS, '--wait=false', '--ignore-not-found']);
  await helm(['uninstall', 'next-image', '-n', OPERATOR_NS, '--ignore-not-found'], 120_000).catch(
    () => undefined,
  );
});

describe('e2e on a real cluster: the quickstart, then a production day', () => {
  // Each step needs what the ones before it made: after a failure, the rest fail at once
  // with its name instead of waiting out their own timeouts.
  let brokenBy: string | undefined;
  beforeEach((ctx) => {
    if (brokenBy !== undefined) throw new Error(`not run: step "${brokenBy}" failed first`);
    onTestFailed(() => {
      brokenBy ??= ctx.task.name;
    });
  });

  it('1. helm install from the repo: the operator becomes Ready', async () => {
    const started = Date.now();
    await helm([
      'install',
      'next-image',
      join(ROOT, 'charts/next-image-operator'),
      '--namespace',
      OPERATOR_NS,
      '--create-namespace',
      '--wait',
      '--timeout',
      '180s',
    ]);
    const d = await json<{ items: Deployment[] }>(['-n', OPERATOR_NS, 'get', 'deployments']);
    expect(d.items.length).toBe(1);
    expect(d.items[0]?.status.readyReplicas).toBe(1);
    report.helmInstallSeconds = (Date.now() - started) / 1000;
  });

  it('2. a restricted namespace, the Next.js frontend and the quickstart ImageOptimizer become Ready', async () => {
    await kubectl(['create', 'namespace', NS]);
    await kubectl(['label', 'namespace', NS, 'pod-security.kubernetes.io/enforce=restricted']);
    await kubectl(['-n', NS, 'apply', '-f', join(ROOT, 'examples/quickstart/')]);
    await kubectl(['-n', NS, 'apply', '-f', join(ROOT, 'test/e2e/manifests/cdn.yaml')]);
    const started = Date.now();
    await kubectl(
      ['-n', NS, 'wait', `imageoptimizer/${CR}`, '--for=condition=Ready', '--timeout=180s'],
      {
        timeoutMs: 200_000,
      },
    );
    report.crReadySeconds = (Date.now() - started) / 1000;
    await kubectl(['-n', NS, 'rollout', 'status', 'deployment/frontend', '--timeout=180s'], {
      timeoutMs: 200_000,
    });
    await kubectl(['-n', NS, 'rollout', 'status', 'deployment/cdn', '--timeout=180s'], {
      timeoutMs: 200_000,
    });
    const ip = (
      await kubectl([
        '-n',
        NS,
        'get',
        'service',
        `${CR}-gateway`,
        '-o',
        'jsonpath={.spec.clusterIP}',
      ])
    ).stdout;
    expect(ip).toMatch(/^10\.96\./);
    gatewayUrl = `http://${ip}`;
    // A pod turns Ready a moment before kube-proxy routes its Service to it: until then the
    // gateway's fallback connection is refused (502), as on any cluster. Wait for the first page.
    const first = Date.now();
    await eventually(
      'the first page through the gateway',
      async () =>
        (await client<Reply>(['get', `${gatewayUrl}/`])).status === 200 ? true : undefined,
      30_000,
    );
    report.firstPageWaitSeconds = (Date.now() - first) / 1000;
  });

  it('3. through the gateway: the page, a MISS then a HIT, the CDN image, the blocked host', async () => {
    expect(gatewayUrl, 'step 2 must pass first').not.toBe('');
    const page = await client<Reply>(['get', `${gatewayUrl}/`]);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.text).toContain(`/_next/image?url=%2Fmountains.jpg&amp;w=${W}&amp;q=75`);

    const miss = await client<Reply>(['get', image('/mountains.jpg'), IMAGE_ACCEPT]);
    expect(miss).toMatchObject({
      status: 200,
      headers: { 'content-type': 'image/webp', 'x-nextjs-cache': 'MISS' },
    });
    const hit = await client<Reply>(['get', image('/mountains.jpg'), IMAGE_ACCEPT]);
    expect(hit).toMatchObject({
      status: 200,
      headers: { 'content-type': 'image/webp', 'x-nextjs-cache': 'HIT' },
    });
    expect(hit.bytes).toBe(miss.bytes);

    // A relative URL is fetched from the frontend through frontend.plt.local → CoreDNS:
    // the frontend itself counts the request.
    const before = (await frontendCounts())['/photos/relative.jpg'] ?? 0;
    expect((await client<Reply>(['get', image('/photos/relative.jpg'), IMAGE_ACCEPT])).status).toBe(
      200,
    );
    expect((await frontendCounts())['/photos/relative.jpg']).toBe(before + 1);

    // Remote images: the quickstart allows none; the e2e's spec allows the CDN Service.
    const cdn = `http://cdn.${NS}.svc.cluster.local/flowers.jpg?v=remote`;
    expect((await client<Reply>(['get', image(cdn), IMAGE_ACCEPT])).status).toBe(400);
    const spec = (
      await readFile(join(ROOT, 'test/e2e/manifests/imageoptimizer.yaml'), 'utf8')
    ).replaceAll('E2E_NAMESPACE', NS);
    await apply(spec);
    await crSettled();
    const remote = await client<Reply>(['get', image(cdn), IMAGE_ACCEPT]);
    expect(remote).toMatchObject({ status: 200, headers: { 'content-type': 'image/webp' } });

    const blocked = await client<Reply>([
      'get',
      image('http://blocked.example.com/flowers.jpg'),
      IMAGE_ACCEPT,
    ]);
    expect(blocked.status).toBe(400);
    expect(blocked.text).toBe('"url" parameter is not allowed');
  });

  it('4. three optimizers share one Valkey: 30 identical requests over the three → 1 source fetch, 1 encode', async () => {
    await patchSpec({ optimizer: { replicas: 3 } });
    await crSettled(3);
    await eventually('the Valkey pod Ready', async () => {
      const pods = await json<{
        items: { status: { conditions?: { type: string; status: string }[] } }[];
      }>([
        '-n',
        NS,
        'get',
        'pods',
        '-l',
        `app.kubernetes.io/instance=${CR},app.kubernetes.io/component=valkey`,
      ]);
      return pods.items.some((p) =>
        p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      )
        ? true
        : undefined;
    });
    const pods = await optimizerPods();
    expect(pods.length).toBe(3);
    const transformsBefore = await transforms();
    // Ten at once to each replica directly (the gateway's pool could favour one).
    const path = '/photos/burst.jpg';
    const urls = pods.map(
      (p) => `http://${p.ip}:3000/_next/image?url=${encodeURIComponent(path)}&w=${W}&q=75`,
    );
    const replies = await client<{ status: number; headers?: Record<string, string> }[]>([
      'burst',
      '10',
      ...urls,
      IMAGE_ACCEPT,
    ]);
    expect(replies.length).toBe(30);
    expect(replies.map((r) => r.status)).toEqual(Array(30).fill(200));
    expect((await frontendCounts())[path], 'fetches of the source, counted by the frontend').toBe(
      1,
    );
    expect((await transforms()) - transformsBefore, 'encodes over the 3 pods').toBe(1);
    report.burst = { requests: 30, sourceFetches: 1, encodes: 1 };
  });

  it('5. an optimizer pod deleted, then one SIGKILLed, under load: nothing fails but what was in flight', async () => {
    const template = LOAD_TEMPLATE();
    // Warm the four URLs so the load is mostly hits, as in production.
    for (let i = 0; i < 4; i++)
      await client<Reply>(['get', template.replace('{i}', String(i)), IMAGE_ACCEPT]);

    let load = startLoad(template);
    await new Promise((r) => setTimeout(r, 3000));
    const [victim] = await optimizerPods();
    await kubectl(['-n', NS, 'delete', 'pod', victim?.name ?? '', '--wait=true'], {
      timeoutMs: 120_000,
    });
    await rolledOut(`${CR}-optimizer`, 3);
    await new Promise((r) => setTimeout(r, 2000));
    const deleted = await load.stop();
    report.podDelete = deleted;
    expect(deleted.ok).toBeGreaterThan(20);
    expect(deleted.failures, 'failed requests while a pod was deleted').toEqual([]);

    const retriesBefore = await gatewayRetries();
    load = startLoad(template);
    await new Promise((r) => setTimeout(r, 3000));
    const [target] = await optimizerPods();
    const crictl = (args: string[]) =>
      inCluster(`${cluster().binDir}/crictl`, [
        '--runtime-endpoint',
        `unix://${cluster().containerdSocket}`,
        ...args,
      ]);
    const id = (
      await crictl([
        'ps',
        '-q',
        '--name',
        'optimizer',
        '--label',
        `io.kubernetes.pod.name=${target?.name}`,
      ])
    ).stdout.trim();
    expect(id, `the optimizer container of ${target?.name}`).toMatch(/^[0-9a-f]+$/);
    const pid = (JSON.parse((await crictl(['inspect', id])).stdout) as { info: { pid: number } })
      .info.pid;
    process.kill(pid, 'SIGKILL');
    await eventually('the killed container restarted and Ready', async () => {
      const pod = await json<{
        status: { containerStatuses: { restartCount: number; ready: boolean }[] };
      }>(['-n', NS, 'get', 'pod', target?.name ?? '']);
      const s = pod.status.containerStatuses[0];
      return s !== undefined && s.restartCount > 0 && s.ready ? true : undefined;
    });
    await new Promise((r) => setTimeout(r, 2000));
    const killed = await load.stop();
    const retries = (await gatewayRetries()) - retriesBefore;
    report.sigkill = { ...killed, gatewayRetries: retries };
    expect(killed.ok).toBeGreaterThan(20);
    // The load keeps two requests in flight: at most those can fail.
    expect(killed.failed, JSON.stringify(killed.failures)).toBeLessThanOrEqual(2);
  });

  it('6. a change of spec.images rolls the pods; the new setting is served; nothing fails during the roll', async () => {
    expect(
      (await client<Reply>(['get', image('/mountains.jpg', W, 90), IMAGE_ACCEPT])).status,
    ).toBe(400);
    const load = startLoad(LOAD_TEMPLATE());
    await patchSpec({ images: { qualities: [75, 90] } });
    await crSettled(3);
    await new Promise((r) => setTimeout(r, 2000));
    const roll = await load.stop();
    report.configRoll = roll;
    expect(roll.failures, 'failed requests during the roll').toEqual([]);
    expect(
      (await client<Reply>(['get', image('/mountains.jpg', W, 90), IMAGE_ACCEPT])).status,
    ).toBe(200);
  });

  it('6b. a purge token from a Secret: rotating it rolls the optimizer pods; the new token purges, the old one no longer does', async () => {
    const tokens = ['e2e-first-purge-token-0123456789', 'e2e-second-purge-token-987654321'];
    const secret = (token: string) =>
      `apiVersion: v1\nkind: Secret\nmetadata:\n  name: purge\nstringData:\n  token: ${token}\n`;
    /** The purge status every optimizer pod answers for `token`. */
    const purge = async (token: string): Promise<number[]> => {
      const statuses: number[] = [];
      for (const pod of await optimizerPods()) {
        const url = `http://${pod.ip}:3000/__admin/purge?url=${encodeURIComponent('/mountains.jpg')}`;
        statuses.push((await client<Reply>(['post', url, `authorization=Bearer ${token}`])).status);
      }
      return statuses;
    };
    const secretHash = async () =>
      (
        await json<{ spec: { template: { metadata: { annotations?: Record<string, string> } } } }>([
          '-n',
          NS,
          'get',
          'deployment',
          `${CR}-optimizer`,
        ])
      ).spec.template.metadata.annotations?.['nextimage.dev/secret-hash'];

    await apply(secret(tokens[0] ?? ''));
    await patchSpec({ optimizer: { purgeTokenSecretRef: { name: 'purge', key: 'token' } } });
    await crSettled(3);
    const first = await secretHash();
    expect(first).toMatch(/.+/);
    expect(await purge(tokens[0] ?? '')).toEqual([200, 200, 200]);

    await apply(secret(tokens[1] ?? ''));
    const second = await eventually(
      'the optimizer pod template to carry the new Secret hash',
      async () => {
        const hash = await secretHash();
        return hash !== undefined && hash !== first ? hash : undefined;
      },
    );
    await crSettled(3);
    report.secretRotation = { before: first, after: second };
    expect(await purge(tokens[1] ?? '')).toEqual([200, 200, 200]);
    expect(await purge(tokens[0] ?? '')).toEqual([401, 401, 401]);
  });

  it('7. the leading operator pod deleted: the standby takes the lease, and a CR change after that converges', async () => {
    // HA as a production install runs it: two operators, one holding the Lease.
    await helm([
      'upgrade',
      'next-image',
      join(ROOT, 'charts/next-image-operator'),
      '--namespace',
      OPERATOR_NS,
      '--reuse-values',
      '--set',
      'operator.replicas=2',
      '--wait',
      '--timeout',
      '180s',
    ]);
    const lease = async () =>
      (
        await kubectl([
          '-n',
          OPERATOR_NS,
          'get',
          'lease',
          'next-image-operator',
          '-o',
          'jsonpath={.spec.holderIdentity}',
        ])
      ).stdout;
    // The upgrade rolls the operator (RollingUpdate once it elects): the old pod may still be
    // terminating when helm --wait returns.
    const pods = await eventually('two running operator pods, none terminating', async () => {
      const list = await json<{
        items: { metadata: { name: string; deletionTimestamp?: string } }[];
      }>(['-n', OPERATOR_NS, 'get', 'pods']);
      const names = list.items.map((p) => p.metadata.name);
      return list.items.every((p) => p.metadata.deletionTimestamp === undefined) &&
        names.length === 2
        ? names
        : undefined;
    });
    const before = await eventually('the lease held by one of them', async () => {
      const holder = await lease();
      return pods.some((p) => holder.startsWith(p)) ? holder : undefined;
    });
    const leader = pods.find((p) => before.startsWith(p));
    expect(leader, `the lease holder ${before} is one of ${pods.join(', ')}`).toBeDefined();
    const started = Date.now();
    await kubectl(['-n', OPERATOR_NS, 'delete', 'pod', leader ?? ''], { timeoutMs: 120_000 });
    const after = await eventually('a new lease holder', async () => {
      const holder = await lease();
      return holder !== '' && holder !== before ? holder : undefined;
    });
    report.failover = { before, after, seconds: (Date.now() - started) / 1000 };
    await patchSpec({ optimizer: { replicas: 2 } });
    await crSettled(2);
  });

  it('8. deleting the CR removes every child; helm uninstall removes the operator and keeps the CRD', async () => {
    await kubectl(['-n', NS, 'delete', 'imageoptimizer', CR, '--wait=true'], {
      timeoutMs: 120_000,
    });
    await eventually('every child of the ImageOptimizer gone (garbage collector)', async () => {
      const left = (
        await kubectl([
          '-n',
          NS,
          'get',
          'deployments,statefulsets,services,configmaps,secrets,horizontalpodautoscalers,poddisruptionbudgets,pods',
          '-l',
          `app.kubernetes.io/instance=${CR}`,
          '-o',
          'name',
        ])
      ).stdout.trim();
      return left === '' ? true : undefined;
    });
    await helm(['uninstall', 'next-image', '-n', OPERATOR_NS, '--wait', '--timeout', '120s']);
    await eventually('the operator pods gone', async () => {
      const left = (await kubectl(['-n', OPERATOR_NS, 'get', 'pods', '-o', 'name'])).stdout.trim();
      return left === '' ? true : undefined;
    });
    const crd = await kubectl(['get', 'crd', 'imageoptimizers.nextimage.dev', '-o', 'name']);
    expect(crd.stdout.trim()).toBe(
      'customresourcedefinition.apiextensions.k8s.io/imageoptimizers.nextimage.dev',
    );
  });
});
