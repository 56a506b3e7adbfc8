import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.ts';

/** A redis-server owned by one test file. */
export interface RedisServer {
  /** redis://127.0.0.1:<port> */
  url: string;
  port: number;
  /** Stops the server (SIGTERM) and waits for it to exit; the port stays reserved for restart(). */
  stop(): Promise<void>;
  /** Kills the server (SIGKILL) and waits for it to exit. */
  kill(): Promise<void>;
  /** Freezes the server (SIGSTOP): connections stay open but nothing answers. */
  pause(): void;
  /** Thaws a paused server (SIGCONT). */
  resume(): void;
  /** Starts a fresh (empty) server on the same port. */
  restart(): Promise<void>;
  /** Stops the server and removes its directory. */
  close(): Promise<void>;
}

const READY = /Ready to accept connections/;

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Spawns redis-server and resolves once it logs that it accepts connections. */
function spawnRedis(port: number, dir: string, extra: string[]): Promise<ChildProcess> {
  // No persistence: a restart must come back empty, like a lost Redis.
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const child = spawn('redis-server', [...args, '--dir', dir, ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (READY.test(output)) {
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        child.off('exit', onExit);
        resolve(child);
      }
    };
    const onExit = (): void =>
      reject(new Error(`redis-server exited before it was ready on port ${port}:\n${output}`));
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'ENOENT'
          ? new Error('redis-server is not installed: apt-get install -y redis-server')
          : error,
      ),
    );
    child.once('exit', onExit);
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
  });
}

export interface StartRedisOptions {
  /** Extra redis-server arguments, e.g. ['--requirepass', 'secret']. */
  args?: string[];
}

/** Starts a private redis-server on a free loopback port in a temporary directory. */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const extra = options.args ?? [];
  const dir = await mkdtemp(join(tmpdir(), 'next-image-redis-'));
  let port = 0;
  let child: ChildProcess | undefined;
  for (let attempt = 0; child === undefined; attempt++) {
    port = await freePort();
    try {
      child = await spawnRedis(port, dir, extra);
    } catch (error: unknown) {
      if (attempt >= 2) throw error;
    }
  }
  let current: ChildProcess | undefined = child;
  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    const running = current;
    current = undefined;
    if (running === undefined) return;
    // A paused server must run again to act on SIGTERM.
    running.kill('SIGCONT');
    running.kill(signal);
    await exited(running);
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: () => halt('SIGTERM'),
    kill: () => halt('SIGKILL'),
    pause: () => {
      current?.kill('SIGSTOP');
    },
    resume: () => {
      current?.kill('SIGCONT');
    },
    restart: async () => {
      await halt('SIGTERM');
      current = await spawnRedis(port, dir, extra);
    },
    close: async () => {
      await halt('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
