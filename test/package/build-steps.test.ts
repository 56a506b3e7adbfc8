import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { access, cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyBuildContext, dockerfileStage, runCommands } from './docker-context.ts';
import { cleanEnv } from './install.ts';

// The Dockerfile's build and deps stages, run on the host: the repository copied as the
// build context (.dockerignore applied), then every RUN line of those stages verbatim
// (`npm install --ignore-scripts`, `npm run build`, `npm pack` into /out, which does not
// exist yet, `npm ci --omit=dev`), with the image's absolute paths mapped into a temp dir.
// What lands in app/ is what the image's /app holds. Slow: a compile and two installs.

const execFileAsync = promisify(execFile);
let work: string;
let app: string;
const children: ChildProcess[] = [];

/** The Dockerfile's absolute paths, mapped into the temp dir. */
function mapPaths(command: string): string {
  return command
    .replace(/(?<![\w./-])\/out\b/g, join(work, 'out'))
    .replace(/(?<![\w./-])\/root\/\.npm\b/g, join(work, 'root-npm'));
}

async function sh(command: string, cwd: string, env: NodeJS.ProcessEnv): Promise<void> {
  try {
    await execFileAsync('sh', ['-ec', command], {
      cwd,
      env,
      timeout: 600_000,
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error: unknown) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`Dockerfile step failed in ${cwd}:\n${command}\n${e.stderr ?? e.message}`, {
      cause: error,
    });
  }
}

/** The environment a RUN line sees: no NODE_ENV (the image's build stages set none). */
function stageEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...cleanEnv(), ...extra };
  delete env.NODE_ENV;
  return env;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'next-image-build-steps-'));
  const src = join(work, 'src');
  await copyBuildContext(src);
  for (const command of runCommands(await dockerfileStage('build'))) {
    await sh(mapPaths(command), src, stageEnv());
  }
  app = join(work, 'app');
  // COPY --from=build /out/package/ ./
  await cp(join(work, 'out', 'package'), app, { recursive: true });
  const arch = process.arch === 'arm64' ? 'arm64' : 'amd64';
  for (const command of runCommands(await dockerfileStage('deps'))) {
    await sh(mapPaths(command), app, stageEnv({ TARGETARCH: arch }));
  }
}, 1_200_000);

afterAll(async () => {
  await Promise.all(
    children.map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }),
  );
  if (work !== undefined) await rm(work, { recursive: true, force: true });
}, 60_000);

describe("the Dockerfile's build steps on a clean copy of the build context", () => {
  it('leave compiled JavaScript, the assets and production dependencies only', async () => {
    await access(join(app, 'dist', 'cli', 'main.js'));
    await access(join(app, 'assets', 'samples'));
    for (const absent of ['cli', 'test', 'node_modules/typescript', 'node_modules/vitest']) {
      await expect(access(join(app, absent)), absent).rejects.toThrow();
    }
    await access(join(app, 'node_modules', 'sharp'));
  });

  it('answer next-image --help', async () => {
    const { stdout } = await execFileAsync(
      process.execPath,
      [join(app, 'bin', 'next-image.js'), '--help'],
      { cwd: app, env: cleanEnv(), timeout: 30_000 },
    );
    for (const command of ['dev', 'optimizer', 'gateway', 'operator']) {
      expect(stdout).toMatch(new RegExp(`^ {2}${command} `, 'm'));
    }
  });

  it('run next-image dev from dist/, which serves an optimised sample image', async () => {
    const child = spawn(process.execPath, [join(app, 'bin', 'next-image.js'), 'dev', '-p', '0'], {
      cwd: app,
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let out = '';
    let err = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no banner in 30 s:\n${out}\n${err}`)),
        30_000,
      );
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`next-image dev exited with ${code}:\n${out}\n${err}`));
      });
      child.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = out.match(/'(http:\/\/127\.0\.0\.1:\d+\/_next\/image\?url=%2F[^']+)'/);
        if (match?.[1] !== undefined) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
    });
    const res = await fetch(url, { headers: { accept: 'image/webp' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/webp');
    expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    expect(await exited).toEqual([0, null]);
  });
});
