import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// test/e2e/run.sh needs docker, kind, kubectl and helm; these machines have no Docker
// daemon. This checks the script's decision only: it skips with exactly one clear line
// when something is missing, and goes on to create a cluster when everything is there
// (with stub binaries that record their calls, so nothing real is started).

const script = join(dirname(fileURLToPath(import.meta.url)), 'run.sh');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      [script],
      { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

let stubs: string;
const calls = (): string => join(stubs, 'calls.log');

/** A stub binary that logs its arguments and exits with `code` (`docker info` with `infoCode`). */
async function stub(name: string, code: number, infoCode = code): Promise<string> {
  const path = join(stubs, name);
  await writeFile(
    path,
    `#!/usr/bin/env bash\necho "${name} $*" >> "${calls()}"\n` +
      `if [[ "$1" == info ]]; then exit ${infoCode}; fi\nexit ${code}\n`,
  );
  await chmod(path, 0o755);
  return path;
}

beforeAll(async () => {
  stubs = await mkdtemp(join(tmpdir(), 'e2e-stubs-'));
});
afterAll(async () => {
  await rm(stubs, { recursive: true, force: true });
});

describe('test/e2e/run.sh', () => {
  it('skips with one line and exit 0 when kind is missing', async () => {
    const result = await run({ KIND: join(stubs, 'no-such-kind') });
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    const lines = result.stdout.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^SKIP e2e: needs docker .*missing: .*no-such-kind/);
  });

  it('skips and names the daemon when docker cannot reach one', async () => {
    const result = await run({
      DOCKER: await stub('docker', 0, 1),
      KIND: await stub('kind', 0),
      KUBECTL: await stub('kubectl', 0),
      HELM: await stub('helm', 0),
    });
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(
      'SKIP e2e: needs docker (daemon running), kind, kubectl and helm; missing: a running docker daemon',
    );
  });

  it('does not skip when every tool is there: it goes on to create the kind cluster', async () => {
    const result = await run({
      DOCKER: await stub('docker', 0),
      KIND: await stub('kind', 1),
      KUBECTL: await stub('kubectl', 1),
      HELM: await stub('helm', 1),
      E2E_CLUSTER: 'stub-cluster',
    });
    expect(result.stdout).not.toMatch(/SKIP/);
    expect(result.code).not.toBe(0);
    const { readFile } = await import('node:fs/promises');
    expect(await readFile(calls(), 'utf8')).toMatch(
      /kind create cluster --name stub-cluster --wait 120s/,
    );
  });
});
