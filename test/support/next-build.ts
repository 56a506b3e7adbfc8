import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, mkdir, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// A real `next build` of a tiny app, for tests that read what Next.js writes. Next 16.4.6 is
// the bench's (bench/next-app/node_modules). A build takes 15 s on an idle 2-core machine and
// much longer under load, so each app is built once per content (files + Next version) under
// ~/.cache/next-image-operator/next-builds/<hash>/, like the other tiers cache their builds.
// Webpack, not Turbopack: Turbopack refuses a node_modules symlinked from outside its root.

const NEXT_MODULES = fileURLToPath(new URL('../../bench/next-app/node_modules', import.meta.url));
const NEXT_BIN = join(NEXT_MODULES, 'next', 'dist', 'bin', 'next');
const DONE = '.build-done';

function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return (
    env.NEXT_IMAGE_CACHE_DIR ||
    join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'next-image-operator')
  );
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

function run(cwd: string, timeoutMs: number): Promise<void> {
  // No telemetry (tests talk to loopback only); npm's settings are not Next's business.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('npm_config_')),
  );
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [NEXT_BIN, 'build', '--webpack'],
      {
        cwd,
        env: { ...env, NEXT_TELEMETRY_DISABLED: '1', NODE_ENV: 'production' },
        timeout: timeoutMs,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) =>
        error === null
          ? resolve()
          : reject(new Error(`next build failed (${error.message}):\n${stdout}\n${stderr}`)),
    );
  });
}

/** Builds an app made of `files` (path → content) with Next 16; resolves with its directory. */
export async function buildNextApp(
  files: Readonly<Record<string, string>>,
  timeoutMs = 280_000,
): Promise<string> {
  if (!(await exists(NEXT_BIN)))
    throw new Error(
      `Next.js is not installed in bench/next-app: run \`npm install\` there (${NEXT_BIN} is missing)`,
    );
  const pkg = JSON.parse(await readFile(join(NEXT_MODULES, 'next', 'package.json'), 'utf8')) as {
    version: string;
  };
  const hash = createHash('sha256')
    .update(JSON.stringify({ next: pkg.version, files }))
    .digest('hex')
    .slice(0, 16);
  const dir = join(cacheRoot(), 'next-builds', hash);
  if (await exists(join(dir, DONE))) return dir;
  await rm(dir, { recursive: true, force: true });
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  // The real path: a worktree's own node_modules may be a symlink that outlives it less long.
  await symlink(await realpath(NEXT_MODULES), join(dir, 'node_modules'));
  await run(dir, timeoutMs);
  await writeFile(join(dir, DONE), '');
  return dir;
}
