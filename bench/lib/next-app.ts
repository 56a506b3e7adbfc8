import { copyFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { SourceImage } from './images.ts';
import { type Child, runToEnd, start } from './proc.ts';

/** The minimal Next.js 16 app of column (e). */
export const NEXT_APP_DIR = new URL('../next-app/', import.meta.url).pathname;

// No telemetry (only loopback network during the bench), production mode.
function nextEnv(): NodeJS.ProcessEnv {
  return { ...process.env, NEXT_TELEMETRY_DISABLED: '1', NODE_ENV: 'production' };
}

function nextBin(): string {
  return join(NEXT_APP_DIR, 'node_modules', 'next', 'dist', 'bin', 'next');
}

// npm run sets npm_execpath to npm's CLI script; run it with this Node (24) so installs and
// lifecycle scripts see the same runtime. Outside npm, fall back to `npm` on PATH.
function npmCommand(args: string[]): [string, string[]] {
  const cli = process.env.npm_execpath;
  return cli?.endsWith('.js') ? [process.execPath, [cli, ...args]] : ['npm', args];
}

/** Copies the sources into public/, installs next@16.4.6 and runs `next build` (throws with the output). */
export async function prepareNextApp(
  images: readonly SourceImage[],
  log: (line: string) => void,
): Promise<void> {
  const publicDir = join(NEXT_APP_DIR, 'public');
  await mkdir(publicDir, { recursive: true });
  for (const image of images) await copyFile(image.path, join(publicDir, image.name));
  log('next-app: npm install --no-audit --no-fund');
  const [npm, npmArgs] = npmCommand(['install', '--no-audit', '--no-fund']);
  // The parent's npm_config_* would point this install at the repo root's settings.
  const env = Object.fromEntries(
    Object.entries(nextEnv()).filter(([k]) => !k.startsWith('npm_config_')),
  );
  await runToEnd('npm install (bench/next-app)', npm, npmArgs, {
    cwd: NEXT_APP_DIR,
    env: { ...env, NODE_ENV: 'development' },
    timeoutMs: 300_000,
  });
  log('next-app: next build');
  await rm(join(NEXT_APP_DIR, '.next'), { recursive: true, force: true });
  await runToEnd('next build', process.execPath, [nextBin(), 'build'], {
    cwd: NEXT_APP_DIR,
    env: nextEnv(),
    timeoutMs: 300_000,
  });
}

/** Starts `next start` on a loopback port (the caller waits for readiness and stops it). */
export function startNext(port: number): Child {
  return start(
    'next start',
    process.execPath,
    [nextBin(), 'start', '-H', '127.0.0.1', '-p', String(port)],
    {
      cwd: NEXT_APP_DIR,
      env: nextEnv(),
    },
  );
}
