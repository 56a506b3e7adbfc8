import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { renderCrdYaml } from '../../operator/crd/crd.ts';
import { cleanEnv, installProduction, pack, ROOT, stagePackage } from './install.ts';

// The production install: what `npm pack` ships, installed with `npm ci --omit=dev` in a
// clean directory (the Dockerfile's steps), starts every command. Slow (a compile and an
// npm install from the registry or its cache), hence the long timeouts.

const execFileAsync = promisify(execFile);
let work: string;
let app: string;
const children: ChildProcess[] = [];
let fallback: Server;
let fallbackUrl: string;
let tarball: string;

function cli(): string {
  return join(app, 'bin', 'next-image.js');
}

async function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [cli(), ...args], {
      cwd: app,
      env: cleanEnv(),
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error: unknown) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof e.code === 'number' ? e.code : 1,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? '',
    };
  }
}

/** Starts a long-running command; resolves with the JSON log line whose msg matches. */
async function startCli(args: string[], msg: string): Promise<Record<string, unknown>> {
  const child = spawn(process.execPath, [cli(), ...args], {
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
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no "${msg}" log line in 30 s:\n${out}\n${err}`)),
      30_000,
    );
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(
        new Error(`next-image ${args[0]} exited with ${code} before "${msg}":\n${out}\n${err}`),
      );
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      for (const line of out.split('\n')) {
        if (!line.startsWith('{')) continue;
        const entry = JSON.parse(line) as Record<string, unknown>;
        if (entry.msg === msg) {
          clearTimeout(timer);
          resolve(entry);
        }
      }
    });
  });
}

async function stopChildren(): Promise<void> {
  await Promise.all(
    children.map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }),
  );
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'next-image-install-'));
  const staging = join(work, 'staging');
  await stagePackage(staging);
  tarball = await pack(staging, join(work, 'packed'));
  app = join(work, 'app');
  await installProduction(tarball, app);

  const png = await sharp({
    create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 40, b: 90 } },
  })
    .png()
    .toBuffer();
  fallback = createServer((req, res) => {
    if (req.url === '/sample.png') {
      res.writeHead(200, { 'content-type': 'image/png' }).end(png);
    } else {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<p>frontend</p>');
    }
  });
  fallback.listen(0, '127.0.0.1');
  await once(fallback, 'listening');
  fallbackUrl = `http://127.0.0.1:${(fallback.address() as AddressInfo).port}`;
}, 900_000);

afterAll(async () => {
  await stopChildren();
  if (fallback !== undefined) fallback.close();
  if (work !== undefined) await rm(work, { recursive: true, force: true });
}, 60_000);

describe('the production install (npm pack → npm ci --omit=dev)', () => {
  it('holds compiled JavaScript and production dependencies only', async () => {
    await access(join(app, 'dist', 'cli', 'main.js'));
    await expect(access(join(app, 'cli', 'main.ts'))).rejects.toThrow();
    for (const dev of ['typescript', 'vitest', '@biomejs/biome', 'node']) {
      await expect(access(join(app, 'node_modules', dev))).rejects.toThrow();
    }
    await access(join(app, 'node_modules', 'sharp'));
  });

  it('answers next-image --help with every command', async () => {
    const { code, stdout } = await runCli(['--help']);
    expect(code).toBe(0);
    for (const command of ['optimizer', 'gateway', 'operator', 'render', 'crd']) {
      expect(stdout).toMatch(new RegExp(`^ {2}${command} `, 'm'));
    }
  });

  it('prints the CRD with next-image crd, exactly as the sources render it', async () => {
    const { code, stdout } = await runCli(['crd']);
    expect(code).toBe(0);
    expect((parse(stdout) as { kind: string }).kind).toBe('CustomResourceDefinition');
    expect(stdout).toBe(renderCrdYaml());
  });

  it('renders examples/minimal.yaml with next-image render', async () => {
    const { code, stdout, stderr } = await runCli([
      'render',
      '-f',
      join(ROOT, 'examples', 'minimal.yaml'),
      '-n',
      'shop',
    ]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const kinds = parseAllDocuments(stdout).map((d) => (d.toJS() as { kind: string }).kind);
    expect(kinds).toEqual(expect.arrayContaining(['Deployment', 'Service']));
  });

  it("installs sharp's prebuilt libvips for linux/arm64 the way the Dockerfile does", async () => {
    const dir = join(work, 'arm64');
    await installProduction(tarball, dir, [
      '--ignore-scripts',
      '--os=linux',
      '--cpu=arm64',
      '--libc=glibc',
    ]);
    for (const pkg of ['sharp-linux-arm64', 'sharp-libvips-linux-arm64']) {
      await access(join(dir, 'node_modules', '@img', pkg));
    }
    await expect(access(join(dir, 'node_modules', '@img', 'sharp-linux-x64'))).rejects.toThrow();
  }, 300_000);

  let optimizerUrl: string | undefined;

  it('starts the optimizer, which answers /healthz and serves an image (sharp loads)', async () => {
    const config = join(work, 'optimizer.json');
    await writeFile(
      config,
      JSON.stringify({ next: { imageOptimizer: { fallback: fallbackUrl } } }),
    );
    const optimizer = await startCli(
      ['optimizer', '--config', config, '--host', '127.0.0.1', '--port', '0'],
      'optimizer listening',
    );
    optimizerUrl = String(optimizer.url);
    expect((await fetch(`${optimizerUrl}/healthz`)).status).toBe(200);
    await expectWebp(`${optimizerUrl}/_next/image?url=%2Fsample.png&w=32&q=75`);
  });

  it('starts the gateway, which answers /healthz and routes /_next/image to the optimizer', async () => {
    expect(optimizerUrl, 'the optimizer test must pass first').toBeDefined();
    const config = join(work, 'gateway.json');
    // The guide's two routes, as the operator renders them.
    const routes = { prefix: '/', routes: ['/_next/image'], methods: ['GET'] };
    await writeFile(
      config,
      JSON.stringify({
        gateway: {
          applications: [
            { id: 'optimizer', origin: optimizerUrl, proxy: routes },
            { id: 'frontend', origin: fallbackUrl, proxy: { prefix: '/', routes: ['/*'] } },
          ],
        },
      }),
    );
    const gateway = await startCli(
      ['gateway', '--config', config, '--host', '127.0.0.1', '--port', '0', '--admin-port', '0'],
      'gateway listening',
    );
    expect((await fetch(`${String(gateway.admin)}/healthz`)).status).toBe(200);
    await expectWebp(`${String(gateway.url)}/_next/image?url=%2Fsample.png&w=48&q=75`);
    expect(await (await fetch(`${String(gateway.url)}/`)).text()).toBe('<p>frontend</p>');
  });
});

async function expectWebp(url: string): Promise<void> {
  const res = await fetch(url, { headers: { accept: 'image/webp,*/*' } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('image/webp');
  const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
  expect(meta.format).toBe('webp');
  expect(meta.width).toBeLessThanOrEqual(Number(new URL(url).searchParams.get('w')));
}
