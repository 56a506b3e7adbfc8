import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { dockerignored as ignored } from './docker-context.ts';
import { ROOT } from './install.ts';

// Quick checks of what can go wrong without a build: the build context (.dockerignore)
// must hold every input of `npm run build` and `npm pack`, the build must not reach into
// test code, and the runtime stage must stay non-root and one image for every command.
// build-steps.test.ts runs the build steps; test/cluster/images builds the image itself.

const execFileAsync = promisify(execFile);
const dockerfile = await readFile(join(ROOT, 'Dockerfile'), 'utf8');

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

  it('compile no file that .dockerignore drops or that is test code (npm run build)', async () => {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const { stdout } = await execFileAsync(
      process.execPath,
      [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--listFilesOnly'],
      { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 },
    );
    const ours = stdout
      .split('\n')
      .filter((f) => f.startsWith(`${ROOT}/`) && !f.includes('/node_modules/'))
      .map((f) => relative(ROOT, f));
    expect(ours.length).toBeGreaterThan(10);
    const bad = ours.filter((f) => ignored(f) || /(^|\/)test-support\/|\.test\.ts$/.test(f));
    expect(bad, 'tsconfig.build.json reaches these through imports').toEqual([]);
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
