import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { ControlPlaneError } from './errors.ts';
import { pollUntil, simpleRequest } from './http.ts';

/** How to reach the apiserver as an admin. */
export interface AdminEndpoint {
  readonly server: string;
  readonly caPem: string;
  readonly token: string;
}

const CRD_PATH = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

/**
 * Server-side applies every CustomResourceDefinition in the YAML files (field manager
 * `control-plane-harness`, forced, so a test re-applying a newer CRD just takes over)
 * and waits until each is Established. Returns the CRD names.
 */
export async function installCrds(
  admin: AdminEndpoint,
  files: readonly string[],
  timeoutMs: number,
): Promise<string[]> {
  const names: string[] = [];
  for (const file of files) {
    for (const doc of parseAllDocuments(await readFile(file, 'utf8'))) {
      const crd = doc.toJS() as { kind?: string; metadata?: { name?: string } } | null;
      const name = crd?.metadata?.name;
      if (crd?.kind !== 'CustomResourceDefinition' || name === undefined) continue;
      const res = await simpleRequest(
        `${admin.server}${CRD_PATH}/${name}?fieldManager=control-plane-harness&force=true`,
        {
          method: 'PATCH',
          caPem: admin.caPem,
          token: admin.token,
          body: JSON.stringify(crd),
          contentType: 'application/apply-patch+yaml',
        },
      );
      if (res.status >= 300) {
        throw new ControlPlaneError(
          'CP_NOT_READY',
          `could not install CRD ${name} from ${file}: ${res.status} ${res.body}`,
        );
      }
      names.push(name);
    }
  }
  for (const name of names) {
    await pollUntil(
      async () => {
        const res = await simpleRequest(`${admin.server}${CRD_PATH}/${name}`, {
          caPem: admin.caPem,
          token: admin.token,
        });
        const status = (JSON.parse(res.body) as { status?: { conditions?: unknown[] } }).status;
        return (status?.conditions ?? []).some(
          (c) =>
            (c as { type?: string }).type === 'Established' &&
            (c as { status?: string }).status === 'True',
        );
      },
      { timeoutMs },
    );
  }
  return names;
}
