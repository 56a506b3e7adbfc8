import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { controlPlanePaths } from '../../test/control-plane/config.ts';
import { valkeyImage } from './bases.ts';
import { buildDockerfileImage } from './dockerfile-image.ts';
import { podmanIn } from './podman.ts';

// `npm run image`: the project's Dockerfile built without a registry (podman, local base
// images, offline npm), saved as an OCI archive for `ctr -n k8s.io images import`, kind,
// k3d or minikube. `npm run image -- --all` also builds what the cluster tier imports.

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const version = (
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }
).version;
/** The chart's and the operator's default image: what the release workflow publishes. */
export const PRODUCT_IMAGE = `ghcr.io/next-image-operator/next-image:${version}`;

const FRONTEND = join(ROOT, 'test/e2e/frontend');
const frontendVersion = (
  JSON.parse(readFileSync(join(FRONTEND, 'package.json'), 'utf8')) as { version: string }
).version;
/** The sample Next.js 16 frontend (and the e2e's CDN): examples/quickstart/frontend.yaml. */
export const SAMPLE_FRONTEND_IMAGE = `ghcr.io/next-image-operator/sample-frontend:${frontendVersion}`;

/** One built image. */
export interface BuiltImage {
  readonly name: string;
  readonly archive: string;
}

/** Builds the product image (and with `all`, the sample frontend and Valkey) into the cache. */
export async function buildImages(all: boolean, log: (l: string) => void): Promise<BuiltImage[]> {
  const cacheDir = controlPlanePaths().cacheRoot;
  const podman = await podmanIn(cacheDir);
  const out: BuiltImage[] = [];
  const archive = await buildDockerfileImage(
    cacheDir,
    podman,
    { context: ROOT, dockerfile: join(ROOT, 'Dockerfile'), name: PRODUCT_IMAGE, lockDir: ROOT },
    log,
  );
  out.push({ name: PRODUCT_IMAGE, archive });
  if (all) {
    const frontend = await buildDockerfileImage(
      cacheDir,
      podman,
      {
        context: FRONTEND,
        dockerfile: join(FRONTEND, 'Dockerfile'),
        name: SAMPLE_FRONTEND_IMAGE,
        lockDir: FRONTEND,
      },
      log,
    );
    out.push({ name: SAMPLE_FRONTEND_IMAGE, archive: frontend });
    out.push(await valkeyImage(cacheDir, log));
  }
  return out;
}

const HELP = `Usage: npm run image [-- --all]

Builds the Dockerfile without a registry (podman, local stand-ins for the FROM images,
npm from an offline cache) and writes an OCI archive under
~/.cache/next-image-operator/images/. Prints "<image name> <archive>" per image.

  --all    also the images the e2e imports: the sample Next.js frontend
           (${SAMPLE_FRONTEND_IMAGE}) and the Valkey stand-in
  --help   this text
`;

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  if (args.includes('--help')) {
    process.stdout.write(HELP);
  } else {
    const unknown = args.filter((a) => a !== '--all');
    if (unknown.length > 0) {
      process.stderr.write(`unknown argument ${unknown[0]}\n${HELP}`);
      process.exit(2);
    }
    const images = await buildImages(args.includes('--all'), (l) =>
      process.stderr.write(`[image] ${l}\n`),
    );
    for (const i of images) process.stdout.write(`${i.name} ${i.archive}\n`);
  }
}
