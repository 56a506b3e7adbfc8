import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { OPERATOR_FLAGS } from '../operator/config.ts';
import { CRD_FLAGS } from './crd.ts';
import { DEV_FLAGS } from './dev.ts';
import { GATEWAY_FLAGS } from './gateway.ts';
import { COMMAND_HELP } from './help.ts';
import { IMPORT_NEXT_FLAGS } from './import-next.ts';
import { OPTIMIZER_FLAGS } from './optimizer.ts';
import { PREWARM_FLAGS } from './prewarm.ts';
import { FLAGS as RENDER_FLAGS } from './render.ts';

// Every command answers --help (and -h) with its own usage, exit 0, without starting;
// the root answers --version. The help lists exactly the flags each parser accepts, so a new
// flag without a line in the help fails here.

const BIN = fileURLToPath(new URL('../bin/next-image.js', import.meta.url));
const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 20_000 }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : Number(error.code ?? 1), stdout, stderr }),
    );
  });
}

type Flags = Readonly<Record<string, { type: string; short?: string }>>;
const PARSERS: Record<string, Flags> = {
  optimizer: OPTIMIZER_FLAGS,
  gateway: GATEWAY_FLAGS,
  dev: DEV_FLAGS,
  crd: CRD_FLAGS,
  render: RENDER_FLAGS,
  prewarm: PREWARM_FLAGS,
  operator: OPERATOR_FLAGS,
  'import-next': IMPORT_NEXT_FLAGS,
};

describe('next-image --help and --version', () => {
  it('has help for every command, and for nothing else', () => {
    expect(Object.keys(COMMAND_HELP).sort()).toEqual(Object.keys(PARSERS).sort());
  });

  it.each(Object.keys(PARSERS))('%s --help lists exactly the flags its parser accepts', (name) => {
    const help = COMMAND_HELP[name] ?? '';
    const flags = PARSERS[name] ?? {};
    for (const [flag, spec] of Object.entries(flags)) {
      expect(help, `--${flag}`).toMatch(new RegExp(`--${flag}(?![\\w-])`));
      if (spec.short !== undefined)
        expect(help, `-${spec.short}`).toContain(`-${spec.short}, --${flag}`);
    }
    const listed = new Set([...help.matchAll(/--([a-z][\w-]*)/g)].map((m) => m[1]));
    listed.delete('help');
    expect([...listed].sort()).toEqual(Object.keys(flags).sort());
  });

  it.each(Object.keys(PARSERS))(
    '%s --help and -h print it and exit 0 without starting',
    async (name) => {
      for (const flag of ['--help', '-h']) {
        const out = await cli([name, flag]);
        expect(out.code).toBe(0);
        expect(out.stdout).toBe(COMMAND_HELP[name]);
        expect(out.stderr).toBe('');
      }
    },
  );

  it('prints the package version for --version, -V and version', async () => {
    for (const flag of ['--version', '-V', 'version']) {
      const out = await cli([flag]);
      expect(out).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
    }
  });

  it('lists every command in the root --help, and says how to get more', async () => {
    const out = await cli(['--help']);
    expect(out.code).toBe(0);
    for (const name of Object.keys(PARSERS)) expect(out.stdout).toContain(`  ${name} `);
    expect(out.stdout).toContain('next-image <command> --help');
  });
});
