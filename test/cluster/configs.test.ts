import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  cniConflist,
  corefile,
  kubeletConfig,
  kubeProxyConfig,
  type NodePaths,
} from './configs.ts';
import { mountsUnder } from './host-state.ts';
import { parseImageLines } from './images.ts';
import { NETWORK } from './network.ts';
import { apiserverAltNames } from './pki.ts';

const paths: NodePaths = {
  containerdRoot: '/w/c/root',
  containerdState: '/w/c/state',
  containerdSocket: '/w/c/c.sock',
  containerdOpt: '/w/c/opt',
  cniConfDir: '/w/cni',
  cniIpamDir: '/w/ipam',
  kubeletRoot: '/w/kubelet',
  podLogsDir: '/w/logs',
  resolvConf: '/w/resolv.conf',
  caCert: '/w/ca.crt',
  kubeconfigKubelet: '/w/k.kubeconfig',
  kubeconfigProxy: '/w/p.kubeconfig',
};

describe('cluster tier configuration', () => {
  it('lets the kubelet run on cgroup v1 with webhook authn/authz and cluster DNS', () => {
    const c = parse(kubeletConfig(NETWORK, paths)) as Record<string, unknown>;
    expect(c).toMatchObject({
      failCgroupV1: false,
      cgroupDriver: 'cgroupfs',
      oomScoreAdj: 0,
      clusterDomain: 'cluster.local',
      clusterDNS: [NETWORK.dnsServiceIp],
      authentication: { anonymous: { enabled: false }, webhook: { enabled: true } },
      authorization: { mode: 'Webhook' },
      containerRuntimeEndpoint: 'unix:///w/c/c.sock',
    });
  });

  it('runs kube-proxy in iptables mode without touching conntrack sysctls', () => {
    expect(parse(kubeProxyConfig(NETWORK, paths))).toMatchObject({
      mode: 'iptables',
      conntrack: { maxPerCore: 0, min: 0 },
    });
  });

  it('gives pods one bridge, host-local IPAM in the work dir, and portmap', () => {
    const c = JSON.parse(cniConflist(NETWORK, '/w/ipam')) as { plugins: Record<string, unknown>[] };
    expect(c.plugins.map((p) => p.type)).toEqual(['bridge', 'portmap']);
    expect(c.plugins[0]).toMatchObject({
      isGateway: true,
      ipMasq: false,
      ipam: { type: 'host-local', dataDir: '/w/ipam' },
    });
  });

  it('answers cluster names from the API and every other name NXDOMAIN', () => {
    const text = corefile(NETWORK);
    expect(text).toMatch(/^cluster\.local:53 in-addr\.arpa:53 ip6\.arpa:53 \{/);
    expect(text).toContain('kubernetes cluster.local in-addr.arpa ip6.arpa');
    expect(text).toContain('rcode NXDOMAIN');
    expect(text).not.toContain('forward');
  });

  it('makes the apiserver certificate valid for every name pods and the node use', () => {
    expect(apiserverAltNames(NETWORK).split(',')).toEqual(
      expect.arrayContaining([
        'IP:10.96.0.1',
        `IP:${NETWORK.nodeIp}`,
        'IP:127.0.0.1',
        'DNS:kubernetes.default.svc.cluster.local',
      ]),
    );
  });

  it('unmounts the deepest mount first, and only under the given dirs', () => {
    expect(
      mountsUnder(
        ['/', '/w', '/w/a', '/w/a/b', '/wx', '/var/lib/kubelet/pods/x'],
        ['/w', '/var/lib/kubelet'],
      ),
    ).toEqual(['/var/lib/kubelet/pods/x', '/w/a/b', '/w/a', '/w']);
  });

  it('reads the image list images/build.sh prints, and refuses anything else', () => {
    expect(parseImageLines('a/b:1 /x/a.tar\n\nc:2 /x/c.tar\n')).toEqual([
      { name: 'a/b:1', archive: '/x/a.tar' },
      { name: 'c:2', archive: '/x/c.tar' },
    ]);
    expect(() => parseImageLines('only-a-name')).toThrow(/unexpected line/);
  });
});

describe('npm run cluster output', () => {
  it('is ready only at the "cluster ready" line, with the KEY=value lines before it', async () => {
    const { readyLines } = await import('./global-setup.ts');
    expect(readyLines('KUBECONFIG=/a\nNETNS=/run/netns/x\n')).toBeUndefined();
    expect(
      readyLines('KUBECONFIG=/a\nNETNS=/run/netns/x\nCONTAINERD=/c.sock\n# note\ncluster ready\n'),
    ).toEqual(
      new Map([
        ['KUBECONFIG', '/a'],
        ['NETNS', '/run/netns/x'],
        ['CONTAINERD', '/c.sock'],
      ]),
    );
  });
});
