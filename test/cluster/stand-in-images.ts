import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { directoryToOciArchive, type ImageRuntime } from '../../scripts/image/oci.ts';
import type { ImageArchive } from './images.ts';
import { run } from './run.ts';

// Images of the cluster's own add-ons that no registry can give us here: the sandbox
// (pause) image and CoreDNS (the binary build.sh makes from its Go module). Each is one
// static binary in an otherwise empty layer, named as on a real cluster.

const here = dirname(fileURLToPath(import.meta.url));
export const PAUSE_IMAGE = 'registry.k8s.io/pause:3.10';
export const COREDNS_IMAGE = 'registry.k8s.io/coredns/coredns:v1.15.0';

const digestOf = async (file: string): Promise<string> =>
  createHash('sha256')
    .update(await readFile(file))
    .digest('hex')
    .slice(0, 16);

async function oneBinaryImage(
  cacheDir: string,
  name: string,
  binary: string,
  target: string,
  runtime: ImageRuntime,
): Promise<ImageArchive> {
  const key = createHash('sha256')
    .update(`${name}\n${await digestOf(binary)}\n${JSON.stringify(runtime)}`)
    .digest('hex')
    .slice(0, 16);
  const archive = join(cacheDir, `${name.replace(/[/:]/g, '_')}-${key}.oci.tar`);
  if (!existsSync(archive)) {
    const rootfs = await mkdtemp(join(tmpdir(), 'next-image-rootfs-'));
    try {
      await mkdir(join(rootfs, dirname(target)), { recursive: true });
      await copyFile(binary, join(rootfs, target));
      await mkdir(join(rootfs, 'tmp'), { mode: 0o1777 });
      await directoryToOciArchive(rootfs, name, runtime, archive);
    } finally {
      await rm(rootfs, { recursive: true, force: true });
    }
  }
  return { name, archive };
}

/** Builds (or reuses) the pause and CoreDNS images in `cacheDir`. */
export async function standInImages(cacheDir: string, binDir: string): Promise<ImageArchive[]> {
  await mkdir(cacheDir, { recursive: true });
  const pauseBin = join(cacheDir, 'pause');
  if (!existsSync(pauseBin)) {
    await run(
      process.env.GO ?? '/usr/local/go/bin/go',
      [
        'build',
        '-trimpath',
        '-ldflags=-s -w',
        '-o',
        pauseBin,
        join(here, 'images', 'pause', 'main.go'),
      ],
      {
        env: {
          ...process.env,
          CGO_ENABLED: '0',
          GOTOOLCHAIN: 'local',
          GOFLAGS: '-mod=mod',
          GO111MODULE: 'off',
        },
      },
    );
  }
  return [
    await oneBinaryImage(cacheDir, PAUSE_IMAGE, pauseBin, '/pause', {
      entrypoint: ['/pause'],
      user: '65535',
    }),
    await oneBinaryImage(cacheDir, COREDNS_IMAGE, join(binDir, 'coredns'), '/coredns', {
      entrypoint: ['/coredns'],
    }),
  ];
}
