import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClusterError } from './errors.ts';
import { run } from './run.ts';

/** An image archive the node imports (name as the manifests use it). */
export interface ImageArchive {
  readonly name: string;
  readonly archive: string;
}

const here = dirname(fileURLToPath(import.meta.url));
/** `npm run image -- --all`: builds what is missing or stale, prints `<name> <archive>` lines. */
export const IMAGES_SCRIPT = join(here, '..', '..', 'scripts', 'image', 'build.ts');

/** Parses build.sh's stdout (pure). */
export function parseImageLines(stdout: string): ImageArchive[] {
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((line) => {
      const [name, archive, ...rest] = line.split(/\s+/);
      if (name === undefined || archive === undefined || rest.length > 0)
        throw new ClusterError('CLUSTER_IMAGES', `unexpected line from ${IMAGES_SCRIPT}: ${line}`);
      return { name, archive };
    });
}

/** Runs `npm run image -- --all` (its progress on our stderr); returns the archives. */
export async function ensureImages(): Promise<ImageArchive[]> {
  const stdout = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [IMAGES_SCRIPT, '--all'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.once('error', (err) =>
      reject(new ClusterError('CLUSTER_IMAGES', `could not run ${IMAGES_SCRIPT}: ${err.message}`)),
    );
    child.once('exit', (code) =>
      code === 0
        ? resolve(out)
        : reject(
            new ClusterError(
              'CLUSTER_IMAGES',
              `node ${IMAGES_SCRIPT} --all failed with exit code ${code}; its output is above`,
            ),
          ),
    );
  });
  return parseImageLines(stdout);
}

/** Imports the archives into containerd's k8s.io namespace, so nothing is ever pulled. */
export async function importImages(
  ctr: string,
  socket: string,
  images: readonly ImageArchive[],
): Promise<void> {
  for (const image of images) {
    await run(ctr, ['--address', socket, '-n', 'k8s.io', 'images', 'import', image.archive], {
      timeoutMs: 300_000,
    });
    const listed = await run(ctr, ['--address', socket, '-n', 'k8s.io', 'images', 'ls', '-q']);
    if (
      !listed.stdout.split('\n').includes(image.name) &&
      !listed.stdout.split('\n').includes(`docker.io/${image.name}`)
    )
      throw new ClusterError(
        'CLUSTER_IMAGES',
        `${image.archive} imported, but containerd lists no image ${image.name}: check the archive's io.containerd.image.name annotation`,
      );
  }
}
