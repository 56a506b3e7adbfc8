import { describe, expect, it } from 'vitest';
import { inCluster, kubectl } from './context.ts';
import { NETWORK } from './network.ts';

// The cluster a user of Kubernetes expects: a Ready node on its InternalIP, the
// `kubernetes` Service on the node IP, pods scheduled and started from imported images,
// cluster DNS from CoreDNS, kubectl logs and exec through the kubelet.

const json = async <T>(args: string[]): Promise<T> =>
  JSON.parse((await kubectl([...args, '-o', 'json'])).stdout) as T;

interface Node {
  status: {
    addresses: { type: string; address: string }[];
    conditions: { type: string; status: string }[];
  };
  spec: { taints?: { key: string }[] };
}

/** Resolves `name` (A records) with the cluster DNS Service, from inside the namespace. */
async function resolve(name: string): Promise<string> {
  const script = `const { Resolver } = require('node:dns').promises; const r = new Resolver(); r.setServers([process.argv[1]]);
r.resolve4(process.argv[2]).then((a) => console.log(a.sort().join(',')), (e) => { console.log(e.code); });`;
  return (
    await inCluster(process.execPath, ['-e', script, NETWORK.dnsServiceIp, name])
  ).stdout.trim();
}

describe('the cluster tier', () => {
  it('has one Ready node on its InternalIP, with no not-ready taint left', async () => {
    const node = await json<Node>(['get', 'node', NETWORK.nodeName]);
    expect(node.status.addresses).toContainEqual({ type: 'InternalIP', address: NETWORK.nodeIp });
    expect(node.status.conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect((node.spec.taints ?? []).map((t) => t.key)).not.toContain(
      'node.kubernetes.io/not-ready',
    );
  });

  it('advertises the API on the node IP behind the kubernetes Service', async () => {
    const out = await kubectl([
      'get',
      'endpointslices',
      '-n',
      'default',
      '-l',
      'kubernetes.io/service-name=kubernetes',
      '-o',
      'jsonpath={.items[0].endpoints[0].addresses[0]}',
    ]);
    expect(out.stdout).toBe(NETWORK.nodeIp);
  });

  it('resolves Services through CoreDNS as <svc>.<ns>.svc.cluster.local', async () => {
    expect(await resolve(`kubernetes.default.svc.${NETWORK.clusterDomain}`)).toBe(
      NETWORK.apiServiceIp,
    );
    expect(await resolve(`kube-dns.kube-system.svc.${NETWORK.clusterDomain}`)).toBe(
      NETWORK.dnsServiceIp,
    );
    const ns = `dns-${Date.now().toString(36)}`;
    await kubectl(['create', 'namespace', ns]);
    try {
      await kubectl(['-n', ns, 'create', 'service', 'clusterip', 'probe', '--tcp=80:8080']);
      const ip = (
        await kubectl(['-n', ns, 'get', 'service', 'probe', '-o', 'jsonpath={.spec.clusterIP}'])
      ).stdout;
      expect(ip).toMatch(/^10\.96\./);
      expect(await resolve(`probe.${ns}.svc.${NETWORK.clusterDomain}`)).toBe(ip);
      expect(await resolve(`absent.${ns}.svc.${NETWORK.clusterDomain}`)).toBe('ENOTFOUND');
      // Outside the cluster domain there is no upstream: an answer, never a timeout.
      expect(await resolve('images.example.com')).toBe('ENOTFOUND');
    } finally {
      await kubectl(['delete', 'namespace', ns, '--wait=false']);
    }
  });

  it('serves kubectl logs and exec through the kubelet (webhook authn/authz)', async () => {
    const logs = await kubectl(['-n', 'kube-system', 'logs', 'deployment/coredns']);
    expect(logs.stdout).toContain('CoreDNS-1.15.0');
    const exec = await kubectl([
      '-n',
      'kube-system',
      'exec',
      'deployment/coredns',
      '--',
      '/coredns',
      '-version',
    ]);
    expect(exec.stdout).toContain('CoreDNS-1.15.0');
  });

  it('runs the default controller set (deployment, replicaset, endpointslice, node lifecycle)', async () => {
    const deploy = await json<{ status: { availableReplicas?: number } }>([
      '-n',
      'kube-system',
      'get',
      'deployment',
      'coredns',
    ]);
    expect(deploy.status.availableReplicas).toBe(1);
    const slices = await kubectl([
      '-n',
      'kube-system',
      'get',
      'endpointslices',
      '-l',
      'kubernetes.io/service-name=kube-dns',
      '-o',
      'jsonpath={.items[0].endpoints[0].conditions.ready}',
    ]);
    expect(slices.stdout).toBe('true');
  });
});
