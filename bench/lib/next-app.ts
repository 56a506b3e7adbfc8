import { readFileSync } from 'node:fs';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { SourceImage } from './images.ts';
import { type Child, runToEnd, start } from './proc.ts';

/** The Next.js the bench compares with (bench/next-app/package.json pins the same). */
const NEXT_VERSION = '16.4.6';

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
  if (installedNextVersion() === NEXT_VERSION) {
    // Already there (node_modules may be shared with other checkouts): installing again
    // would only rewrite what exists.
    log(`next-app: next@${NEXT_VERSION} already installed`);
  } else {
    await install(log);
  }
  log('next-app: next build');
  await rm(join(NEXT_APP_DIR, '.next'), { recursive: true, force: true });
  await runToEnd('next build', process.execPath, [nextBin(), 'build'], {
    cwd: NEXT_APP_DIR,
    env: nextEnv(),
    timeoutMs: 300_000,
  });
}

/** The version of next installed in bench/next-app, or undefined. */
function installedNextVersion(): string | undefined {
  try {
    const file = join(NEXT_APP_DIR, 'node_modules', 'next', 'package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

async function install(log: (line: string) => void): Promise<void> {
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
