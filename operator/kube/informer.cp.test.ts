import type { KubernetesObject } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../lib/logger.ts';
import { compactEtcd } from '../../test/control-plane/etcd.ts';
import {
  controlPlane,
  freshNamespace,
  testKubeConfig,
} from '../../test/control-plane/test-cluster.ts';
import { kubeConfigForToken, mintServiceAccountToken } from '../../test/control-plane/tokens.ts';
import { eventually } from '../../test/control-plane/wait-for.ts';
import { KubeClient } from './client.ts';
import { Informer } from './informer.ts';

const namespace = await freshNamespace('informer');
const kc = testKubeConfig();
const client = new KubeClient(kc);
const logger = createLogger('informer-test', 'silent');
const started: Array<Informer<KubernetesObject>> = [];
afterAll(async () => {
  await Promise.all(started.map((i) => i.stop()));
});

const configMaps = `/api/v1/namespaces/${namespace}/configmaps`;
const createConfigMap = (name: string): Promise<unknown> =>
  client.request('POST', configMaps, { metadata: { name, labels: { t: 'informer' } } });

describe('Informer', () => {
  it('recovers from 410 Gone after etcd compaction by re-listing, reporting what changed meanwhile', async () => {
    const informer = new Informer<KubernetesObject>(
      'cm',
      kc,
      client,
      configMaps,
      't=informer',
      logger,
    );
    started.push(informer);
    const seen: string[] = [];
    informer.on((event, o) => seen.push(`${event}:${o.metadata?.name}`));
    await createConfigMap('before');
    await informer.start();
    expect(informer.synced).toBe(true);
    expect(informer.get('before', namespace)).toBeDefined();

    await informer.stop();
    await createConfigMap('during');
    await client.delete(`${configMaps}/before`);
    await compactEtcd(controlPlane().etcdUrl); // the informer's resourceVersion is now too old
    void informer.start();
    await eventually(
      async () =>
        seen.includes('add:during') && seen.includes('delete:before') ? true : undefined,
      'the re-list to report the changes',
      20_000,
    );
    expect(informer.get('during', namespace)).toBeDefined();
    expect(informer.get('before', namespace)).toBeUndefined();
    // …and it keeps watching afterwards.
    await createConfigMap('after');
    await eventually(
      async () => (seen.includes('add:after') ? true : undefined),
      'a watch event after recovery',
    );
  });

  it('keeps retrying a list that fails (403) and syncs once it is allowed', async () => {
    await client.request('POST', `/api/v1/namespaces/${namespace}/serviceaccounts`, {
      metadata: { name: 'reader' },
    });
    const token = await mintServiceAccountToken(kc, namespace, 'reader');
    const asReader = kubeConfigForToken(kc, token, namespace);
    const informer = new Informer<KubernetesObject>(
      'cm-reader',
      asReader,
      new KubeClient(asReader),
      configMaps,
      undefined,
      logger,
    );
    started.push(informer);
    void informer.start();
    await new Promise((r) => setTimeout(r, 1500));
    expect(informer.synced).toBe(false);
    await client.request(
      'POST',
      `/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/roles`,
      {
        metadata: { name: 'cm-reader' },
        rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['list', 'watch'] }],
      },
    );
    await client.request(
      'POST',
      `/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/rolebindings`,
      {
        metadata: { name: 'cm-reader' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cm-reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace }],
      },
    );
    await eventually(
      async () => (informer.synced ? true : undefined),
      'the informer to sync after the grant',
      40_000,
    );
    expect(informer.get('after', namespace)).toBeDefined();
  }, 60_000);
});
