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
  dir = await mkdtemp(join(tmpdir(), 'next-image-render-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('next-image render', () => {
  it('prints every object of a CR as YAML documents, in the namespace given', async () => {
    const file = join(dir, 'cr.yaml');
    await writeFile(
      file,
      'apiVersion: nextimage.dev/v1alpha1\nkind: ImageOptimizer\nmetadata: {name: shop}\nspec:\n  imageOptimizer: {fallback: frontend}\n  optimizer: {replicas: 2}\n',
    );
    const { stdout } = await run(process.execPath, [
      bin,
      'render',
      '-f',
      file,
      '-n',
      'web',
      '--valkey-password',
      'fixed',
    ]);
    const objects = parseAllDocuments(stdout).map(
      (d) => d.toJS() as { kind: string; metadata: { name: string; namespace: string } },
    );
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toContain('Deployment/shop-valkey');
    expect(new Set(objects.map((o) => o.metadata.namespace))).toEqual(new Set(['web']));
  });

  it('exits 2 naming the field when the CR is invalid', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(
      file,
      'apiVersion: nextimage.dev/v1alpha1\nkind: ImageOptimizer\nmetadata: {name: shop}\nspec:\n  imageOptimizer: {fallback: frontend, timeout: 0}\n',
    );
    const error = await run(process.execPath, [bin, 'render', '-f', file]).catch(
      (e: unknown) => e as { code: number; stderr: string },
    );
    expect(error).toMatchObject({ code: 2 });
    expect((error as { stderr: string }).stderr).toContain('$.spec.imageOptimizer.timeout');
  });
});

describe('next-image render output', () => {
  const cr =
    'apiVersion: nextimage.dev/v1alpha1\nkind: ImageOptimizer\nmetadata: {name: shop}\nspec:\n  imageOptimizer: {fallback: frontend}\n';
  const fail = (args: string[]) =>
    run(process.execPath, [bin, ...args]).then(
      () => ({ code: 0, stderr: '' }),
      (e: unknown) => e as { code: number; stderr: string },
    );

  it('refuses to guess a namespace: exit 2, asking for -n', async () => {
    const file = join(dir, 'no-ns.yaml');
    await writeFile(file, cr);
    const error = await fail(['render', '-f', file]);
    expect(error.code).toBe(2);
    expect(error.stderr).toBe(
      'next-image render: document 1 (shop) has no metadata.namespace: pass -n <namespace>\n',
    );
  });

  it('writes plain YAML: no anchors or aliases, even for objects used twice', async () => {
    const file = join(dir, 'plain.yaml');
    await writeFile(file, cr);
    const { stdout } = await run(process.execPath, [bin, 'render', '-f', file, '-n', 'web']);
    expect(stdout).not.toMatch(/(^|\s)[&*]a\d+/m);
    expect(stdout.startsWith('---\n')).toBe(true);
  });

  it('writes a JSON List with -o json, the same objects as the YAML', async () => {
    const file = join(dir, 'json.yaml');
    await writeFile(file, cr);
    const args = ['render', '-f', file, '-n', 'web', '--valkey-password', 'p'];
    const yaml = (await run(process.execPath, [bin, ...args])).stdout;
    const json = JSON.parse((await run(process.execPath, [bin, ...args, '-o', 'json'])).stdout) as {
      kind: string;
      items: unknown[];
    };
    expect(json.kind).toBe('List');
    expect(json.items).toEqual(parseAllDocuments(yaml).map((d) => d.toJS()));
    expect(await fail([...args, '-o', 'xml'])).toMatchObject({ code: 2 });
  });

  it('names the nearest flag for a typo', async () => {
    const error = await fail(['render', '--namspace', 'web']);
    expect(error.code).toBe(2);
    expect(error.stderr).toContain('unknown flag --namspace; did you mean --namespace?');
  });
});

describe('next-image crd', () => {
  it('prints the CRD', async () => {
    const { stdout } = await run(process.execPath, [bin, 'crd']);
    expect(stdout).toContain('name: imageoptimizers.nextimage.dev');
  });
});
