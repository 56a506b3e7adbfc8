import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../test/cluster/run.ts';

// A single-layer OCI image archive from a directory, with tar and sha256 only: enough for
// the stand-in images of the cluster tier (pause, CoreDNS), which have no Dockerfile to
// build. `ctr images import` takes it; the annotation io.containerd.image.name names it.

/** The image config's runtime part. */
export interface ImageRuntime {
  readonly entrypoint: readonly string[];
  readonly cmd?: readonly string[];
  readonly user?: string;
  readonly env?: readonly string[];
  readonly workingDir?: string;
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

async function blob(dir: string, data: Buffer): Promise<{ digest: string; size: number }> {
  const hex = sha256(data);
  await writeFile(join(dir, 'blobs', 'sha256', hex), data);
  return { digest: `sha256:${hex}`, size: data.length };
}

/** The OCI index with the name annotation containerd reads (pure). */
export function ociIndex(name: string, manifest: { digest: string; size: number }): object {
  return {
    schemaVersion: 2,
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: manifest.digest,
        size: manifest.size,
        annotations: {
          'io.containerd.image.name': name,
          'org.opencontainers.image.ref.name': name.split(':').at(-1),
        },
        platform: { architecture: 'amd64', os: 'linux' },
      },
    ],
  };
}

/** Writes `archive`, an OCI image of `rootfs` named `name` (e.g. registry.k8s.io/pause:3.10). */
export async function directoryToOciArchive(
  rootfs: string,
  name: string,
  runtime: ImageRuntime,
  archive: string,
): Promise<void> {
  const work = `${archive}.d`;
  await rm(work, { recursive: true, force: true });
  await mkdir(join(work, 'blobs', 'sha256'), { recursive: true });
  const layerTar = join(work, 'layer.tar');
  // Sorted, owner root, fixed mtime: the same input gives the same digest.
  await run('tar', [
    '--sort=name',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '--mtime=@0',
    '-C',
    rootfs,
    '-cf',
    layerTar,
    '.',
  ]);
  const layerData = await readFile(layerTar);
  await rm(layerTar);
  const layer = await blob(work, layerData);
  const config = await blob(
    work,
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: {
          Entrypoint: runtime.entrypoint,
          Cmd: runtime.cmd ?? [],
          User: runtime.user ?? '',
          Env: runtime.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
          WorkingDir: runtime.workingDir ?? '/',
        },
        rootfs: { type: 'layers', diff_ids: [layer.digest] },
        history: [
          {
            created: '1970-01-01T00:00:00Z',
            created_by: 'next-image-operator test/cluster/oci.ts',
          },
        ],
      }),
    ),
  );
  const manifest = await blob(
    work,
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
      }),
    ),
  );
  await writeFile(join(work, 'index.json'), JSON.stringify(ociIndex(name, manifest)));
  await writeFile(join(work, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await run('tar', ['-C', work, '-cf', `${archive}.tmp`, 'oci-layout', 'index.json', 'blobs']);
  await rename(`${archive}.tmp`, archive);
  await rm(work, { recursive: true, force: true });
  await stat(archive);
}
