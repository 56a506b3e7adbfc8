import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

const run = promisify(execFile);
const bin = new URL('../bin/next-image.js', import.meta.url).pathname;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'next-image-render-secrets-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

type Doc = {
  kind: string;
  metadata: { name: string };
  spec?: {
    template?: {
      metadata?: { annotations?: Record<string, string> };
      spec?: { containers?: Array<{ env?: unknown[] }> };
    };
  };
};

async function renderCr(storage: string, optimizer = ''): Promise<{ docs: Doc[]; stderr: string }> {
  const file = join(dir, `${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(
    file,
    `apiVersion: nextimage.dev/v1alpha1\nkind: ImageOptimizer\nmetadata: {name: shop, namespace: web}\nspec:\n  imageOptimizer:\n    fallback: frontend\n    storage: ${storage}\n  optimizer: {replicas: 2${optimizer}}\n`,
  );
  const { stdout, stderr } = await run(process.execPath, [bin, 'render', '-f', file]);
  return { docs: parseAllDocuments(stdout).map((d) => d.toJS() as Doc), stderr };
}

describe('next-image render and secrets', () => {
  it('warns on stderr about a password in the storage url, and still renders', async () => {
    const { docs, stderr } = await renderCr('{type: redis, url: "redis://:hunter2@cache:6379"}');
    expect(stderr).toContain(
      'warning: shop: spec.imageOptimizer.storage.url carries a password inline',
    );
    expect(stderr).not.toContain('hunter2');
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).toContain('Deployment/shop-optimizer');
  });

  it('renders Secret references as secretKeyRef env without a hash (it cannot read them), silently', async () => {
    const { docs, stderr } = await renderCr(
      '{type: redis, urlSecretRef: {name: cache, key: url}}',
      ', purgeTokenSecretRef: {name: purge, key: token}',
    );
    expect(stderr).toBe('');
    const optimizer = docs.find(
      (d) => d.kind === 'Deployment' && d.metadata.name === 'shop-optimizer',
    );
    expect(optimizer?.spec?.template?.spec?.containers?.[0]?.env).toEqual([
      {
        name: 'NEXT_IMAGE_STORAGE_URL',
        valueFrom: { secretKeyRef: { name: 'cache', key: 'url' } },
      },
      {
        name: 'NEXT_IMAGE_PURGE_TOKEN',
        valueFrom: { secretKeyRef: { name: 'purge', key: 'token' } },
      },
    ]);
    expect(optimizer?.spec?.template?.metadata?.annotations).not.toHaveProperty(
      'nextimage.dev/secret-hash',
    );
  });
});
