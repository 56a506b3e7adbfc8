import { existsSync } from 'node:fs';
import { ClusterError } from './errors.ts';
import type { Network } from './network.ts';
import { run } from './run.ts';

// The one network namespace every daemon of the cluster runs in. It has loopback, a veth
// pair whose both ends are inside (the node IP on one end) and a default route to an
// address nobody has: the kubelet and kube-proxy find a node IP and a route as on any
// node, and no packet can leave.

/** A network namespace made by the harness. */
export interface NetworkNamespace {
  readonly name: string;
  /** The path for `nsenter --net=`. */
  readonly path: string;
  remove(): Promise<void>;
}

/** Creates and wires the namespace `name`; on failure removes what it made. */
export async function createNetworkNamespace(name: string, n: Network): Promise<NetworkNamespace> {
  const path = `/run/netns/${name}`;
  if (existsSync(path)) {
    throw new ClusterError(
      'CLUSTER_COMMAND_FAILED',
      `${path} exists already: another cluster runs, or an earlier one was killed with -9 (remove it with: ip netns del ${name})`,
    );
  }
  await run('ip', ['netns', 'add', name]);
  const remove = async (): Promise<void> => {
    if (existsSync(path)) await run('ip', ['netns', 'del', name], { allowFailure: true });
  };
  const inNs = (args: string[]): Promise<unknown> => run('ip', args, { netns: path });
  try {
    await inNs(['link', 'set', 'lo', 'up']);
    await inNs(['link', 'add', n.nodeInterface, 'type', 'veth', 'peer', 'name', n.peerInterface]);
    await inNs(['addr', 'add', `${n.nodeIp}/${n.nodePrefix}`, 'dev', n.nodeInterface]);
    await inNs(['link', 'set', n.nodeInterface, 'up']);
    await inNs(['link', 'set', n.peerInterface, 'up']);
    await inNs(['route', 'add', 'default', 'via', n.deadGateway, 'dev', n.nodeInterface]);
    // Per-namespace settings: routing between the pod bridge and the node, and bridged
    // pod-to-pod traffic through iptables so Service DNAT is undone on the way back.
    await run('sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1'], { netns: path });
    const bridgeNf = await run('sysctl', ['-q', '-w', 'net.bridge.bridge-nf-call-iptables=1'], {
      netns: path,
      allowFailure: true,
    });
    if (bridgeNf.code !== 0) {
      throw new ClusterError(
        'CLUSTER_KERNEL',
        `the kernel has no br_netfilter (net.bridge.bridge-nf-call-iptables): ${bridgeNf.stderr.trim()}; Services between pods on one bridge need it (load the br_netfilter module)`,
      );
    }
  } catch (err) {
    await remove();
    throw err;
  }
  return { name, path, remove };
}
