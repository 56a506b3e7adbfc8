import { execFile, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MESSAGES } from '../errors.ts';

// End-to-end SSRF cases name real private addresses, so they run only in a fresh network
// namespace with nothing but loopback: even a broken guard cannot send a packet out.
const probe = fileURLToPath(new URL('./test-support/ssrf-netns-probe.ts', import.meta.url));
const isolated = spawnSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up']).status === 0;

interface Outcome {
  name: string;
  status: number;
  code: string;
  causeCode?: string;
  message: string;
}

function runProbe(): Promise<Outcome[]> {
  const script = `ip link set lo up && exec "${process.execPath}" "${probe}"`;
  return new Promise((resolve, reject) => {
    execFile(
      'unshare',
      ['-n', 'sh', '-c', script],
      { timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error !== null) {
          reject(new Error(`probe failed: ${error.message}\n${stderr}`));
          return;
        }
        resolve(
          stdout
            .split('\n')
            .filter((line) => line.trim() !== '')
            .map((line) => JSON.parse(line) as Outcome),
        );
      },
    );
  });
}

describe.skipIf(!isolated)('SSRF guard end to end, in a loopback-only network namespace', () => {
  it('answers every private, metadata and rebinding-style target with 400 "url" parameter is not allowed', async () => {
    const outcomes = await runProbe();
    const refused = outcomes.filter((outcome) => !outcome.name.startsWith('control'));
    expect(refused.map((outcome) => outcome.name)).toEqual([
      'metadata literal',
      'private literal',
      'CGNAT literal',
      'unspecified literal',
      'ULA literal',
      'IPv4-mapped private literal',
      'name resolving to 10.x',
      'name resolving to metadata',
      'name with one private address',
      'redirect to 10.0.0.1',
      'redirect to metadata',
      'redirect to a name resolving to 10.x',
    ]);
    for (const outcome of refused) {
      expect(outcome, outcome.name).toMatchObject({
        status: 400,
        code: 'UPSTREAM_NOT_ALLOWED',
        message: MESSAGES.notAllowed,
      });
    }
    // Without the guard the kernel itself refuses: the namespace really has no route out.
    const control = outcomes.find((outcome) => outcome.name.startsWith('control'));
    expect(control).toMatchObject({
      status: 500,
      code: 'UPSTREAM_CONNECTION_FAILED',
      causeCode: 'ENETUNREACH',
    });
  });
});
