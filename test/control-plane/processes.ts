import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { ControlPlaneError } from './errors.ts';

/** A child process of the control plane, stopped by its PID only. */
export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves with the exit code/signal once the process is gone. */
  readonly exited: Promise<string>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

// Every process started by this module, so an interrupted runner can still end them.
const live = new Set<ChildProcess>();
const dirs = new Set<string>();
let handlersInstalled = false;

/** Registers a temp dir to remove if the runner exits or is interrupted before `stop()`. */
export function removeOnExit(dir: string): () => void {
  dirs.add(dir);
  return () => dirs.delete(dir);
}

function killAllNow(): void {
  for (const child of live) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  live.clear();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  dirs.clear();
}

// 'exit' handlers must be synchronous, so the last resort is SIGKILL by PID. On a
// signal nobody else handles we re-raise it, so the runner still dies of that signal;
// when the runner (vitest, cli.ts) handles it, the runner decides how to exit.
function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.once('exit', killAllNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAllNow();
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

/** Returns the last `lines` lines of a log file, for error messages. */
export function logTail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Starts `bin args`, with stdout and stderr appended to `logFile`. */
export function startProcess(
  name: string,
  bin: string,
  args: readonly string[],
  logFile: string,
): ManagedProcess {
  installExitHandlers();
  const fd = openSync(logFile, 'a');
  const child = spawn(bin, args, { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  if (child.pid === undefined) {
    throw new ControlPlaneError('CP_BINARY_MISSING', `could not start ${name} (${bin})`);
  }
  const pid = child.pid;
  live.add(child);
  const exited = new Promise<string>((resolve) => {
    child.once('error', (err) => resolve(`error ${err.message}`));
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve(signal === null ? `exit code ${code}` : `signal ${signal}`);
    });
  });
  const gone = (): boolean => child.exitCode !== null || child.signalCode !== null;
  return {
    name,
    pid,
    logFile,
    exited,
    async stop(graceMs = 10_000): Promise<void> {
      if (gone()) return;
      process.kill(pid, 'SIGTERM');
      const timer = setTimeout(() => {
        if (!gone()) process.kill(pid, 'SIGKILL');
      }, graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Starts a detached shell that, should this Node process die without cleaning up
 * (SIGKILL, crash), kills the PIDs listed in `pidFile` and removes `dir`. It is the
 * only safety net against a runner killed with -9; it is itself stopped by PID.
 */
export function startWatchdog(pidFile: string, dir: string): ManagedProcess {
  const script = [
    'parent=$1; pids=$2; dir=$3',
    'while kill -0 "$parent" 2>/dev/null; do sleep 1; done',
    'list=$(cat "$pids" 2>/dev/null)',
    '[ -n "$list" ] && kill -TERM $list 2>/dev/null; sleep 5',
    '[ -n "$list" ] && kill -KILL $list 2>/dev/null',
    'rm -rf "$dir"',
  ].join('\n');
  const child = spawn('sh', ['-c', script, 'watchdog', String(process.pid), pidFile, dir], {
    detached: true,
    stdio: 'ignore',
  });
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new ControlPlaneError('CP_BINARY_MISSING', 'could not start sh');
  const exited = new Promise<string>((resolve) => child.once('exit', () => resolve('exit')));
  return {
    name: 'watchdog',
    pid,
    logFile: '',
    exited,
    async stop(): Promise<void> {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.ref(); // unref'd so it never holds the runner open; awaiting its exit needs a ref
      process.kill(pid, 'SIGKILL');
      await exited;
    },
  };
}
