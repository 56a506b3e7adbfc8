import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import picomatch from 'picomatch';
import { describe, expect, it } from 'vitest';
import { ROOT } from './install.ts';

// Docker is absent here, so the image cannot be built in tests. These check what can go
// wrong without a build: the build context (.dockerignore) must hold every input of
// `npm run build` and `npm pack`, and the runtime stage must stay non-root and one image
// for every command.

const dockerfile = await readFile(join(ROOT, 'Dockerfile'), 'utf8');
const ignore = (await readFile(join(ROOT, '.dockerignore'), 'utf8'))
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));

/** Whether .dockerignore keeps `path` (or one of its parents) out of the build context. */
function ignored(path: string): boolean {
  const parts = path.split('/');
  const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let out = false;
  for (const raw of ignore) {
    const negate = raw.startsWith('!');
    const pattern = negate ? raw.slice(1) : raw;
    if (candidates.some((c) => picomatch.isMatch(c, pattern, { dot: true }))) out = !negate;
  }
  return out;
}

/** The stages of the Dockerfile: each FROM line and the lines up to the next. */
function stages(): Array<{ from: string; body: string }> {
  const parts = dockerfile.split(/^FROM /m).slice(1);
  return parts.map((p) => ({ from: p.split('\n')[0] ?? '', body: p }));
}

describe('Dockerfile and .dockerignore', () => {
  it('keep every input of npm run build and npm pack in the build context', async () => {
    const build = JSON.parse(await readFile(join(ROOT, 'tsconfig.build.json'), 'utf8')) as {
      include: string[];
    };
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
      files: string[];
    };
    const inputs = [
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'tsconfig.build.json',
      ...build.include,
      ...pkg.files.map((f) => f.replace(/\/$/, '')).filter((f) => f !== 'dist'),
    ];
    expect(inputs.filter(ignored)).toEqual([]);
  });

  it('keep what the image must not hold out of the context', () => {
    for (const path of ['node_modules', 'cli/node_modules', 'dist', '.git', 'test', 'x.tgz']) {
      expect(ignored(path), path).toBe(true);
    }
  });

  it('run the final stage as a numeric non-root user with next-image as the entrypoint', () => {
    const last = stages().at(-1);
    expect(last?.body).toMatch(/^USER 65532:65532$/m);
    expect(last?.body).toMatch(/^ENTRYPOINT \[".*node", "\/app\/bin\/next-image\.js"\]$/m);
    expect(last?.body).not.toMatch(/^RUN /m);
  });

  it('build Node 24 (package.json engines) and install production dependencies for the target platform', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
      engines: { node: string };
    };
    const major = pkg.engines.node.match(/>=(\d+)/)?.[1];
    expect(dockerfile).toMatch(new RegExp(`^ARG NODE_VERSION=${major}$`, 'm'));
    const deps = stages().find((s) => s.from.includes(' AS deps'));
    expect(deps?.body).toMatch(/npm ci --omit=dev/);
    expect(deps?.body).toMatch(/amd64\) CPU=x64/);
    expect(deps?.body).toMatch(/arm64\) CPU=arm64/);
    expect(deps?.body).toMatch(/--cpu="\$CPU" --libc=glibc/);
  });
});
