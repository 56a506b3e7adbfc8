import { execFile } from 'node:child_process';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

// The steps of the Dockerfile, runnable without Docker: compile to dist/, `npm pack`
// exactly what package.json "files" ships, unpack in a clean directory, add the lock file
// and `npm ci --omit=dev`. What this installs is what the image holds.

const execFileAsync = promisify(execFile);

/** The repository root. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The environment for npm and the installed CLI: the npm/vitest variables of this run
 * removed, and this Node (24) first on PATH so npm and `#!/usr/bin/env node` use it.
 */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(npm_|NODE_OPTIONS$|VITEST|TEST$|INIT_CWD$)/i.test(key)) env[key] = value;
  }
  env.PATH = `${dirname(process.execPath)}:${process.env.PATH ?? '/usr/bin:/bin'}`;
  env.NODE_ENV = 'production';
  return env;
}

async function run(cmd: string, args: string[], cwd: string, timeout = 300_000): Promise<string> {
  try {
    const { stdout } = await execFileAsync(cmd, args, {
      cwd,
      env: cleanEnv(),
      timeout,
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } catch (error: unknown) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    const output = `${e.stdout ?? ''}\n${e.stderr ?? ''}`.trim();
    throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd}: ${e.message}\n${output}`, {
      cause: error,
    });
  }
}

/** Compiles the sources with tsconfig.build.json into `staging/dist` and copies "files" there. */
export async function stagePackage(staging: string): Promise<void> {
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
    files: string[];
  };
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  await run(
    process.execPath,
    [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(staging, 'dist')],
    ROOT,
  );
  await cp(join(ROOT, 'package.json'), join(staging, 'package.json'));
  for (const entry of pkg.files) {
    const path = entry.replace(/\/$/, '');
    if (path === 'dist') continue;
    await cp(join(ROOT, path), join(staging, path), {
      recursive: true,
      filter: (src) => !src.includes('node_modules'),
    }).catch((error: NodeJS.ErrnoException) => {
      // A "files" entry that does not exist yet (e.g. assets/) ships nothing, as in npm.
      if (error.code !== 'ENOENT') throw error;
    });
  }
}

/** `npm pack` in `staging`; returns the tarball's path. */
export async function pack(staging: string, destination: string): Promise<string> {
  await mkdir(destination, { recursive: true });
  const out = await run('npm', ['pack', '--json', '--pack-destination', destination], staging);
  const [info] = JSON.parse(out) as Array<{ filename: string }>;
  if (info === undefined) throw new Error(`npm pack printed no result: ${out}`);
  return join(destination, info.filename);
}

/**
 * Unpacks the tarball into `dir`, adds the lock file and runs `npm ci --omit=dev`.
 * devDependencies are dropped from package.json first: npm ci checks the whole lock
 * against package.json, dev tools included, and a production install must not depend on
 * the lock describing every platform's biome binary.
 */
export async function installProduction(
  tarball: string,
  dir: string,
  extraArgs: string[] = [],
): Promise<void> {
  await mkdir(dir, { recursive: true });
  await run('tar', ['-xzf', tarball, '-C', dir, '--strip-components=1'], dir);
  await writeFile(join(dir, 'package-lock.json'), await readFile(join(ROOT, 'package-lock.json')));
  await run('npm', ['pkg', 'delete', 'devDependencies'], dir);
  await run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', ...extraArgs], dir, 600_000);
}
