import { AppsV1Api } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { freshNamespace, testKubeConfig } from './test-cluster.ts';
import { eventually } from './wait-for.ts';

const namespace = await freshNamespace('gc');
const apps = testKubeConfig().makeApiClient(AppsV1Api);

describe('kube-controller-manager', () => {
  it('creates a ReplicaSet for a Deployment and garbage-collects it with the Deployment', async () => {
    const labels = { app: 'gc-demo' };
    const deployment = await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: 'gc-demo' },
        spec: {
          replicas: 1,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: { containers: [{ name: 'app', image: 'registry.invalid/app:1' }] },
          },
        },
      },
    });

    const replicaSet = await eventually(async () => {
      const list = await apps.listNamespacedReplicaSet({ namespace });
      return list.items[0];
    }, 'the deployment controller to create a ReplicaSet');
    expect(replicaSet.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: 'Deployment',
      name: 'gc-demo',
      uid: deployment.metadata?.uid,
      controller: true,
    });

    await apps.deleteNamespacedDeployment({
      name: 'gc-demo',
      namespace,
      body: { propagationPolicy: 'Background' },
    });
    await eventually(async () => {
      const list = await apps.listNamespacedReplicaSet({ namespace });
      return list.items.length === 0 ? true : undefined;
    }, 'the garbage collector to delete the orphaned ReplicaSet');
  });
});
