import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';

/** Mints a ServiceAccount token through the TokenRequest API, as a kubelet would. */
export async function mintServiceAccountToken(
  admin: KubeConfig,
  namespace: string,
  serviceAccount: string,
  expirationSeconds = 3600,
): Promise<string> {
  const core = admin.makeApiClient(CoreV1Api);
  const res = await core.createNamespacedServiceAccountToken({
    name: serviceAccount,
    namespace,
    // Empty audiences means "the apiserver's own audiences".
    body: { spec: { audiences: [], expirationSeconds } },
  });
  const value = res.status?.token;
  if (value === undefined)
    throw new Error(`TokenRequest for ${namespace}/${serviceAccount} returned no token`);
  return value;
}

/** A KubeConfig for the same cluster as `base`, authenticating with `token`. */
export function kubeConfigForToken(
  base: KubeConfig,
  token: string,
  namespace?: string,
): KubeConfig {
  const cluster = base.getCurrentCluster();
  if (cluster === null) throw new Error('the base KubeConfig has no current cluster');
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: 'token-user', token }],
    contexts: [
      {
        name: 'token-user',
        cluster: cluster.name,
        user: 'token-user',
        ...(namespace === undefined ? {} : { namespace }),
      },
    ],
    currentContext: 'token-user',
  });
  return kc;
}
