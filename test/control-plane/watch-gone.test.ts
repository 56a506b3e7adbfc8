import { CoreV1Api, Watch } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { compactEtcd } from './etcd.ts';
import { controlPlane, freshNamespace, testKubeConfig } from './test-cluster.ts';

const namespace = await freshNamespace('watch');
const kc = testKubeConfig();
const core = kc.makeApiClient(CoreV1Api);

/** Starts a watch and resolves with the HTTP or in-stream status that ended it. */
function watchOutcome(resourceVersion: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const watch = new Watch(kc);
    let controller: AbortController | undefined;
    const finish = (code: number): void => {
      controller?.abort();
      resolve(code);
    };
    watch
      .watch(
        `/api/v1/namespaces/${namespace}/configmaps`,
        { resourceVersion, allowWatchBookmarks: false },
        (phase: string, obj: { code?: number }) => {
          // A watch that fell behind is ended by an ERROR event carrying a Status.
          if (phase === 'ERROR') finish(obj.code ?? 0);
        },
        (err: unknown) => {
          const status = (err as { statusCode?: number; code?: number } | null) ?? null;
          if (status === null) reject(new Error('watch ended without an error'));
          else finish(status.statusCode ?? status.code ?? 0);
        },
      )
      .then((c) => {
        controller = c;
      }, reject);
  });
}

describe('watch after etcd compaction', () => {
  it('answers 410 Gone to a watch resumed from a compacted resourceVersion', async () => {
    const created = await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'watched' }, data: { n: '0' } },
    });
    const staleVersion = created.metadata?.resourceVersion ?? '';
    for (let n = 1; n <= 3; n++) {
      await core.replaceNamespacedConfigMap({
        name: 'watched',
        namespace,
        body: { metadata: { name: 'watched' }, data: { n: `${n}` } },
      });
    }
    const revision = await compactEtcd(controlPlane().etcdUrl);
    expect(revision).toBeGreaterThan(Number(staleVersion));

    expect(await watchOutcome(staleVersion)).toBe(410);
  });
});
