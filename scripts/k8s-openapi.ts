// Writes api/k8s/core-v1.openapi.json: the Kubernetes OpenAPI v3 definitions of the pod fields
// the ImageOptimizer reuses (Affinity, Toleration, TopologySpreadConstraint, EnvVar, …) and
// everything they reference, taken from the pinned k8s.io/kubernetes module — the same release
// the control-plane tier builds (test/control-plane/versions.env). api/k8s/schemas.ts turns
// them into zod, so the CRD carries Kubernetes' own field names, types and descriptions.
//
//   npm run generate:k8s-openapi          (needs Go: `go mod download` fetches the module)
//   node scripts/k8s-openapi.ts --check   (exit 1 when the checked-in file is stale)
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { K8S_OPENAPI_PATH, K8S_OPENAPI_ROOTS, k8sOpenApiFile } from './packaging/k8s-openapi.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const versions = readFileSync(join(root, 'test/control-plane/versions.env'), 'utf8');
const version = /^K8S_VERSION=(.+)$/m.exec(versions)?.[1]?.trim();
if (version === undefined) throw new Error('K8S_VERSION missing from versions.env');
const download = JSON.parse(
  execFileSync('go', ['mod', 'download', '-json', `k8s.io/kubernetes@v${version}`], {
    cwd: join(root, 'test/control-plane/go/k8s'),
    encoding: 'utf8',
    env: { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod' },
  }),
) as { Dir?: string; Error?: string };
if (download.Dir === undefined) throw new Error(download.Error ?? 'go mod download gave no Dir');
const spec = JSON.parse(
  readFileSync(join(download.Dir, 'api/openapi-spec/v3/api__v1_openapi.json'), 'utf8'),
) as { components: { schemas: Record<string, unknown> } };
const text = k8sOpenApiFile(spec.components.schemas, K8S_OPENAPI_ROOTS, version);
const path = join(root, K8S_OPENAPI_PATH);
if (process.argv.includes('--check')) {
  if (readFileSync(path, 'utf8') !== text) {
    process.stderr.write(`${K8S_OPENAPI_PATH} is stale (run npm run generate:k8s-openapi)\n`);
    process.exitCode = 1;
  }
} else {
  writeFileSync(path, text);
  process.stdout.write(`wrote ${K8S_OPENAPI_PATH} (Kubernetes ${version})\n`);
}
