import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import {
  copyFile,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rename,
  rm,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import picomatch from 'picomatch';
import { run } from '../../test/cluster/run.ts';
import { ensureBaseImages, NPM_OFFLINE_DIR } from './bases.ts';
import type { Podman } from './podman.ts';

// `podman build` of a Dockerfile with no registry and no network: the FROM images are the
// local stand-ins (bases.ts), npm installs from a cache filled on the host from the
// context's package-lock.json, and the result is saved as an OCI archive.

/** What to build. */
export interface DockerfileImage {
  readonly context: string;
  readonly dockerfile: string;
  readonly name: string;
  /** The directory whose package.json + package-lock.json the image's npm steps install. */
  readonly lockDir: string;
}

/** The rules of a .dockerignore text: its non-empty, non-comment lines (pure). */
export function dockerignoreRules(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/**
 * Whether `rules` keep `rel` (a path in the context, or one of its parents) out of the
 * build context: the last matching rule wins, `!` re-includes, as Docker reads them (pure).
 */
export function dockerignored(rules: readonly string[], rel: string): boolean {
  const parts = rel.split('/');
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let out = false;
  for (const raw of rules) {
    const negate = raw.startsWith('!');
    const pattern = negate ? raw.slice(1) : raw;
    if (candidates.some((c) => picomatch.isMatch(c, pattern, { dot: true }))) out = !negate;
  }
  return out;
}

/** Files of a build context, .dockerignore applied. */
export async function contextFiles(context: string): Promise<string[]> {
  const ignoreFile = join(context, '.dockerignore');
  const rules = existsSync(ignoreFile) ? dockerignoreRules(await readFile(ignoreFile, 'utf8')) : [];
  const ignored = (rel: string): boolean => dockerignored(rules, rel);
  const files: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      const rel = relative(context, path);
      if (ignored(rel)) continue;
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) files.push(rel);
    }
  };
  await walk(context);
  return files.sort();
}

async function contextKey(img: DockerfileImage): Promise<string> {
  const hash = createHash('sha256').update(`${img.name}\n`);
  hash.update(await readFile(img.dockerfile));
  for (const f of await contextFiles(img.context))
    hash.update(`${f}\n`).update(await readFile(join(img.context, f)));
  return hash.digest('hex').slice(0, 16);
}

/** Fills the offline npm cache with everything `lockDir`'s lock file names (once per lock). */
async function fillNpmCache(
  cacheDir: string,
  lockDir: string,
  log: (l: string) => void,
): Promise<string> {
  const npmCache = join(cacheDir, 'npm-offline');
  const lock = await readFile(join(lockDir, 'package-lock.json'));
  const stamp = join(
    npmCache,
    `.lock-${createHash('sha256').update(lock).digest('hex').slice(0, 16)}`,
  );
  if (existsSync(stamp)) return npmCache;
  log(`npm cache for ${relative(process.cwd(), lockDir) || '.'} (from package-lock.json)`);
  const work = await mkdtemp(join(tmpdir(), 'next-image-npm-'));
  try {
    await copyFile(join(lockDir, 'package.json'), join(work, 'package.json'));
    await copyFile(join(lockDir, 'package-lock.json'), join(work, 'package-lock.json'));
    await run(
      'npm',
      ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--cache', npmCache],
      { cwd: work, timeoutMs: 900_000 },
    );
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  await writeFile(stamp, '');
  return npmCache;
}

/** Builds `img` (or reuses the archive of identical inputs); returns the OCI archive's path. */
export async function buildDockerfileImage(
  cacheDir: string,
  podman: Podman,
  img: DockerfileImage,
  log: (l: string) => void,
): Promise<string> {
  const key = await contextKey(img);
  const archive = join(cacheDir, 'images', `${img.name.replace(/[/:]/g, '_')}-${key}.oci.tar`);
  if (existsSync(archive)) {
    log(`${img.name}: up to date (${archive})`);
    return archive;
  }
  await ensureBaseImages(cacheDir, podman, log);
  const npmCache = await fillNpmCache(cacheDir, img.lockDir, log);
  log(`${img.name}: podman build ${relative(process.cwd(), img.dockerfile)}`);
  const started = Date.now();
  await podman(
    [
      'build',
      '--pull=never',
      '--network=none',
      '--volume',
      `${npmCache}:${NPM_OFFLINE_DIR}`,
      '-f',
      img.dockerfile,
      '-t',
      img.name,
      img.context,
    ],
    { timeoutMs: 1_800_000 },
  );
  await mkdir(join(cacheDir, 'images'), { recursive: true });
  await rm(`${archive}.tmp`, { force: true });
  await podman(['save', '--format', 'oci-archive', '-o', `${archive}.tmp`, img.name]);
  await rename(`${archive}.tmp`, archive);
  // Older archives of the same image (other inputs) are never used again.
  const prefix = `${img.name.replace(/[/:]/g, '_')}-`;
  for (const f of await readdir(join(cacheDir, 'images')))
    if (f.startsWith(prefix) && f.endsWith('.oci.tar') && join(cacheDir, 'images', f) !== archive)
      await rm(join(cacheDir, 'images', f), { force: true });
  log(`${img.name}: built in ${((Date.now() - started) / 1000).toFixed(0)} s → ${archive}`);
  return archive;
}
