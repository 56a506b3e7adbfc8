// The cluster's addresses, in one place. They exist only inside the network namespace the
// harness creates (which has no route out); nothing outside it is ever addressed.

/** Addresses and names of the single-node cluster. */
export const NETWORK = {
  /** The veth end inside the namespace that carries the node IP. */
  nodeInterface: 'nio0',
  /** Its peer, also inside the namespace: it only makes the link come up. */
  peerInterface: 'nio1',
  nodeIp: '10.203.0.2',
  nodePrefix: 24,
  /** The default route points here; nothing has this address, so nothing leaves. */
  deadGateway: '10.203.0.1',
  podSubnet: '10.244.0.0/24',
  clusterCidr: '10.244.0.0/16',
  serviceCidr: '10.96.0.0/16',
  /** The first address of serviceCidr: the `kubernetes` Service. */
  apiServiceIp: '10.96.0.1',
  dnsServiceIp: '10.96.0.10',
  clusterDomain: 'cluster.local',
  apiPort: 6443,
  bridge: 'cni0',
  nodeName: 'next-image-node',
} as const;

export type Network = typeof NETWORK;
