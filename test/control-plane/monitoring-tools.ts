import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { ControlPlaneError } from './errors.ts';

// promtool and the Prometheus Operator's CRDs, built by build-monitoring.sh (from Go modules,
// cached beside the control-plane binaries). .ci/run builds them up front; a test that needs
// them calls ensureMonitoringTools() in a beforeAll with a long timeout for a cold build.

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'build-monitoring.sh');

/** Where the tools are. */
export interface MonitoringTools {
  promtool: string;
  /** go-monitoring/promtool/promql-metrics: JSON array of expressions in, their metric names out. */
  promqlMetrics: string;
  /** The generated monitoring.coreos.com CRD files. */
  crd(plural: 'podmonitors' | 'prometheusrules' | 'servicemonitors'): string;
}

/** A cold build compiles Prometheus: allow this long for a hook that may trigger one. */
export const MONITORING_BUILD_TIMEOUT_MS = 40 * 60_000;

let built: Promise<MonitoringTools> | undefined;

/** Builds the tools if the cache lacks them (progress on stderr) and returns their paths. */
export function ensureMonitoringTools(): Promise<MonitoringTools> {
  built ??= new Promise<MonitoringTools>((resolve, reject) => {
    const out: Buffer[] = [];
    const child = spawn('bash', [SCRIPT], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.once('error', (err) =>
      reject(
        new ControlPlaneError('CP_BUILD_FAILED', `could not run bash ${SCRIPT}`, { cause: err }),
      ),
    );
    child.once('exit', (code) => {
      if (code !== 0) {
        reject(
          new ControlPlaneError(
            code === 3 ? 'CP_GO_MISSING' : 'CP_BUILD_FAILED',
            `bash ${SCRIPT} failed with exit code ${code}; its output is above`,
          ),
        );
        return;
      }
      const dir = Buffer.concat(out).toString('utf8').trim().split('\n').pop() ?? '';
      resolve({
        promtool: join(dir, 'bin', 'promtool'),
        promqlMetrics: join(dir, 'bin', 'promql-metrics'),
        crd: (plural) => join(dir, 'crds', `monitoring.coreos.com_${plural}.yaml`),
      });
    });
  });
  return built;
}

/** What one promtool run printed. */
export interface PromtoolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs promtool with `files` (name → content, YAML-stringified when not a string) written to
 * a fresh temp dir that is the working directory; args name them relative to it.
 */
export async function promtool(
  args: string[],
  files: Record<string, unknown>,
): Promise<PromtoolResult> {
  const tools = await ensureMonitoringTools();
  const dir = await mkdtemp(join(tmpdir(), 'promtool-'));
  try {
    for (const [name, content] of Object.entries(files))
      await writeFile(join(dir, name), typeof content === 'string' ? content : stringify(content));
    return await new Promise<PromtoolResult>((resolve) => {
      execFile(tools.promtool, args, { cwd: dir, timeout: 60_000 }, (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      });
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The metric names each PromQL expression selects, by the Prometheus parser; throws on a parse error. */
export async function promqlMetricNames(exprs: readonly string[]): Promise<string[][]> {
  const tools = await ensureMonitoringTools();
  const stdout = await new Promise<string>((resolve, reject) => {
    const child = execFile(tools.promqlMetrics, [], { timeout: 60_000 }, (error, out, err) =>
      error === null
        ? resolve(out)
        : reject(new Error(`promql-metrics failed: ${err}`, { cause: error })),
    );
    child.stdin?.end(JSON.stringify(exprs));
  });
  const results = JSON.parse(stdout) as Array<{ expr: string; metrics: string[]; error?: string }>;
  const failed = results.filter((r) => r.error !== undefined);
  if (failed.length > 0)
    throw new Error(
      `PromQL that does not parse:\n${failed.map((r) => `${r.expr}: ${r.error}`).join('\n')}`,
    );
  return results.map((r) => r.metrics);
}
