import { stringify } from 'yaml';

/** What a kubeconfig for one user of the test cluster needs. */
export interface KubeconfigInput {
  readonly server: string;
  readonly caPem: string;
  readonly token: string;
  readonly user: string;
  readonly namespace?: string;
}

/** Renders a single-context kubeconfig (pure; the caller writes it). */
export function renderKubeconfig(input: KubeconfigInput): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'next-image-test',
        cluster: {
          server: input.server,
          'certificate-authority-data': Buffer.from(input.caPem).toString('base64'),
        },
      },
    ],
    users: [{ name: input.user, user: { token: input.token } }],
    contexts: [
      {
        name: 'next-image-test',
        context: {
          cluster: 'next-image-test',
          user: input.user,
          ...(input.namespace === undefined ? {} : { namespace: input.namespace }),
        },
      },
    ],
    'current-context': 'next-image-test',
  });
}

/** Renders a static token file line: token,user,uid,"group1,group2". */
export function tokenFileLine(token: string, user: string, groups: readonly string[]): string {
  return `${token},${user},${user},"${groups.join(',')}"`;
}
