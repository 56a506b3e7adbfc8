import { ControlPlaneError } from './errors.ts';
import { simpleRequest } from './http.ts';

/**
 * Compacts etcd's history up to its current revision through etcd's JSON gateway, so
 * a watch resumed from an older resourceVersion gets 410 Gone. Returns the revision.
 */
export async function compactEtcd(etcdUrl: string): Promise<number> {
  // A range over a key that need not exist still reports the store's current revision.
  const range = await simpleRequest(`${etcdUrl}/v3/kv/range`, {
    method: 'POST',
    body: JSON.stringify({ key: Buffer.from('/').toString('base64') }),
  });
  const revision = Number(
    (JSON.parse(range.body) as { header?: { revision?: string } }).header?.revision,
  );
  if (range.status !== 200 || !Number.isInteger(revision)) {
    throw new ControlPlaneError(
      'CP_ETCD_REQUEST_FAILED',
      `etcd range failed: ${range.status} ${range.body}`,
    );
  }
  const compact = await simpleRequest(`${etcdUrl}/v3/kv/compaction`, {
    method: 'POST',
    body: JSON.stringify({ revision: String(revision), physical: true }),
  });
  if (compact.status !== 200) {
    throw new ControlPlaneError(
      'CP_ETCD_REQUEST_FAILED',
      `etcd compaction failed: ${compact.status} ${compact.body}`,
    );
  }
  return revision;
}
