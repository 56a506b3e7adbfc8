import { request } from 'node:https';
import { controlPlane } from '../control-plane/test-cluster.ts';

// Server-side apply over plain HTTPS. client-node's KubernetesObjectApi sends built-in
// kinds through its model serializer, which drops keys it does not know by their JSON
// names (a CRD's `x-kubernetes-int-or-string`, `x-kubernetes-validations`): an apply of
// YAML as written must bypass it.

/** A Kubernetes object as YAML gives it. */
export interface RawObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [key: string]: unknown;
}

/** Plural and scope of the kinds the chart and the examples hold. */
const RESOURCES: Record<string, { plural: string; namespaced: boolean }> = {
  ServiceAccount: { plural: 'serviceaccounts', namespaced: true },
  Service: { plural: 'services', namespaced: true },
  Deployment: { plural: 'deployments', namespaced: true },
  Role: { plural: 'roles', namespaced: true },
  RoleBinding: { plural: 'rolebindings', namespaced: true },
  ClusterRole: { plural: 'clusterroles', namespaced: false },
  ClusterRoleBinding: { plural: 'clusterrolebindings', namespaced: false },
  CustomResourceDefinition: { plural: 'customresourcedefinitions', namespaced: false },
  ServiceMonitor: { plural: 'servicemonitors', namespaced: true },
  ImageOptimizer: { plural: 'imageoptimizers', namespaced: true },
};

/** The REST path of one object. */
export function objectPath(object: RawObject): string {
  const resource = RESOURCES[object.kind];
  if (resource === undefined) throw new Error(`no REST mapping for kind ${object.kind}`);
  const base = object.apiVersion.includes('/')
    ? `/apis/${object.apiVersion}`
    : `/api/${object.apiVersion}`;
  const ns = object.metadata.namespace;
  if (resource.namespaced && ns === undefined)
    throw new Error(`${object.kind} ${object.metadata.name} has no namespace`);
  const scope = resource.namespaced ? `/namespaces/${ns}` : '';
  return `${base}${scope}/${resource.plural}/${object.metadata.name}`;
}

/** The API server's refusal, with its metav1.Status message. */
export class ApplyError extends Error {
  readonly code = 'APPLY_REJECTED';
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** Server-side applies `object` as the admin (force; `dryRun` stores nothing). */
export function apply(
  object: RawObject,
  manager: string,
  options: { dryRun?: boolean; token?: string } = {},
): Promise<RawObject> {
  const cp = controlPlane();
  const query = new URLSearchParams({ fieldManager: manager, force: 'true' });
  if (options.dryRun === true) query.set('dryRun', 'All');
  const url = new URL(`${objectPath(object)}?${query}`, cp.server);
  const body = JSON.stringify(object);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'PATCH',
        ca: cp.caPem,
        headers: {
          authorization: `Bearer ${options.token ?? cp.adminToken}`,
          'content-type': 'application/apply-patch+yaml',
          accept: 'application/json',
        },
        timeout: 15_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            resolve(JSON.parse(text) as RawObject);
            return;
          }
          let message = text;
          try {
            message = (JSON.parse(text) as { message?: string }).message ?? text;
          } catch {
            // not a Status: keep the raw text
          }
          reject(
            new ApplyError(status, `${object.kind} ${object.metadata.name}: ${status} ${message}`),
          );
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () =>
      req.destroy(new Error(`timed out applying ${object.kind} ${object.metadata.name}`)),
    );
    req.on('error', reject);
    req.end(body);
  });
}
