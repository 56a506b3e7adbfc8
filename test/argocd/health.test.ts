import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { computeStatus, type Observed } from '../../operator/status.ts';
import { toLuaLiteral } from './lua-literal.ts';

// Runs argocd/health.lua with the Lua interpreter from Debian (apt package lua5.4) over
// the sample objects of argocd/health_test.yaml, the format Argo CD's own
// resource_customizations tests use. Argo CD embeds gopher-lua (Lua 5.1); the check
// uses nothing newer, which the 5.1-only-syntax test below guards.

const execFileAsync = promisify(execFile);
const argocdDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'argocd');
const LUA = process.env.LUA_BIN ?? 'lua5.4';

interface HealthCase {
  healthStatus: { status: string; message: string };
  inputPath: string;
}

interface HealthStatus {
  status: string;
  message: string;
}

// The harness defines the global `obj` as Argo CD does, runs the check as a chunk and
// prints what it returned.
const HARNESS = `
local check = assert(loadfile(SCRIPT))
obj = OBJECT
local hs = check()
io.write(tostring(hs.status), "\\n", tostring(hs.message))
`;

async function runHealth(object: unknown): Promise<HealthStatus> {
  const script = HARNESS.replace('SCRIPT', toLuaLiteral(join(argocdDir, 'health.lua'))).replace(
    'OBJECT',
    toLuaLiteral(object),
  );
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync(LUA, ['-e', script], { timeout: 10_000 }));
  } catch (error: unknown) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(
        `${LUA} not found: install the Debian package lua5.4 (apt-get install -y lua5.4)`,
      );
    }
    throw error;
  }
  const [status = '', message = ''] = stdout.split('\n');
  return { status, message };
}

const cases = (
  parse(readFileSync(join(argocdDir, 'health_test.yaml'), 'utf8')) as {
    tests: HealthCase[];
  }
).tests;

describe('argocd/health.lua', () => {
  it.each(cases)('reports $healthStatus.status for $inputPath', async (c) => {
    const object: unknown = parse(readFileSync(join(argocdDir, c.inputPath), 'utf8'));
    expect(await runHealth(object)).toEqual(c.healthStatus);
  });

  it('covers every sample object in argocd/testdata', async () => {
    const { readdir } = await import('node:fs/promises');
    const samples = (await readdir(join(argocdDir, 'testdata'))).map((f) => `testdata/${f}`);
    expect(cases.map((c) => c.inputPath).sort()).toEqual(samples.sort());
  });

  it('reports Healthy only once Ready is True for the current generation', async () => {
    const ready = { type: 'Ready', status: 'True', message: 'all ready' };
    const at = (generation: number, observedGeneration: number): unknown => ({
      metadata: { generation },
      status: { observedGeneration, conditions: [ready] },
    });
    expect((await runHealth(at(2, 1))).status).toBe('Progressing');
    expect((await runHealth(at(2, 2))).status).toBe('Healthy');
  });

  it.each([
    ['Healthy', {}],
    ['Progressing', { optimizer: undefined }],
    ['Degraded', { failure: { reason: 'GatewayAPIMissing', message: 'install the Gateway API' } }],
  ])('reports %s for what the operator writes (computeStatus)', async (health, change) => {
    const deployment = {
      metadata: { generation: 1 },
      spec: { replicas: 1, selector: {}, template: {} },
      status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 1 },
    };
    const observed: Observed = {
      generation: 2,
      optimizer: deployment,
      gatewayWanted: false,
      valkeyWanted: false,
      gatewayDnsAddress: 'http://x',
      storage: 'memory',
      selector: 'a=b',
      ...change,
    };
    const status = computeStatus(observed, undefined, new Date('2026-11-24T06:00:00Z'));
    const result = await runHealth({ metadata: { generation: 2 }, status });
    expect(result.status).toBe(health);
  });

  it('uses no syntax newer than Lua 5.1 (Argo CD runs gopher-lua)', () => {
    const source = readFileSync(join(argocdDir, 'health.lua'), 'utf8');
    // integer division, bitwise operators, goto/labels and <const>/<close> attributes
    for (const pattern of [
      /\/\//,
      /[^~]~[^=]/,
      /<<|>>/,
      /\bgoto\b/,
      /::\w+::/,
      /<(const|close)>/,
    ]) {
      expect(source).not.toMatch(pattern);
    }
  });

  it('ships verbatim in argocd/argocd-cm-patch.yaml', () => {
    const patch = parse(readFileSync(join(argocdDir, 'argocd-cm-patch.yaml'), 'utf8')) as {
      data: Record<string, string>;
    };
    const embedded = patch.data['resource.customizations.health.nextimage.dev_ImageOptimizer'];
    expect(embedded).toBe(readFileSync(join(argocdDir, 'health.lua'), 'utf8'));
  });
});
