import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../test/cluster/run.ts';

// Debian root filesystems made with debootstrap, for the base images the Dockerfile's FROM
// lines name. The mirror is the one this machine's apt already uses (no host is written
// down here); results are cached by suite, variant and packages.

/** The first Debian mirror in apt's sources (deb822 `URIs:` or one-line `deb` form), pure. */
export function mirrorFrom(sources: readonly string[]): string | undefined {
  for (const text of sources) {
    const deb822 = /^URIs:\s*(\S+)/m.exec(text);
    if (deb822?.[1] !== undefined && !/security/.test(deb822[1])) return deb822[1];
    const oneLine = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+\S+\s+main/m.exec(text);
    if (oneLine?.[1] !== undefined && !/security/.test(oneLine[1])) return oneLine[1];
  }
  return undefined;
}

function aptSources(): string[] {
  const files = ['/etc/apt/sources.list'];
  try {
    for (const f of readdirSync('/etc/apt/sources.list.d'))
      if (f.endsWith('.list') || f.endsWith('.sources'))
        files.push(join('/etc/apt/sources.list.d', f));
  } catch {
    // none
  }
  return files.filter((f) => existsSync(f)).map((f) => readFileSync(f, 'utf8'));
}

/** Mount points at or under `dir`, deepest first (pure: `mounts` is /proc/mounts' text). */
export function mountsUnder(mounts: string, dir: string): string[] {
  return mounts
    .split('\n')
    .map((l) => l.split(' ')[1]?.replace(/\\040/g, ' '))
    .filter((m): m is string => m !== undefined && (m === dir || m.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
}

/** debootstrap mounts /proc (and more) in its target and leaves them if it is stopped. */
async function unmountUnder(dir: string): Promise<void> {
  for (const m of mountsUnder(readFileSync('/proc/mounts', 'utf8'), dir))
    await run('umount', ['-l', m], { allowFailure: true });
}

/** A cached `debootstrap --variant=minbase` tree with `include` packages; returns its path. */
export async function debianRootfs(
  cacheDir: string,
  include: readonly string[],
  log: (l: string) => void,
): Promise<string> {
  const suite = 'bookworm';
  const key = createHash('sha256')
    .update(`${suite}\nminbase\n${include.join(',')}`)
    .digest('hex')
    .slice(0, 12);
  const dir = join(cacheDir, `debian-${suite}-${key}`);
  if (existsSync(join(dir, '.complete'))) return dir;
  const mirror = mirrorFrom(aptSources());
  if (mirror === undefined)
    throw new Error('no Debian mirror in /etc/apt/sources.list*: debootstrap needs one');
  log(
    `debootstrap ${suite} (minbase${include.length > 0 ? ` + ${include.join(' ')}` : ''}): about 1.5 min, once`,
  );
  const tmp = `${dir}.tmp`;
  await unmountUnder(tmp);
  await rm(tmp, { recursive: true, force: true });
  const args = [
    '--variant=minbase',
    ...(include.length > 0 ? [`--include=${include.join(',')}`] : []),
    suite,
    tmp,
    mirror,
  ];
  try {
    await run('debootstrap', args, { timeoutMs: 900_000 });
  } finally {
    await unmountUnder(tmp);
  }
  // Nothing in an image needs apt's lists or caches.
  for (const d of ['var/cache/apt/archives', 'var/lib/apt/lists'])
    await run('find', [join(tmp, d), '-mindepth', '1', '-delete'], { allowFailure: true });
  await writeFile(join(tmp, '.complete'), `${new Date().toISOString()}\n`);
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
  return dir;
}
