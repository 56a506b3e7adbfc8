import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';

export { freePort } from '../../test/support/free-port.ts';

/** A child process the bench started, with its output kept for error messages. */
export type Child = {
  proc: ChildProcess;
  name: string;
  output: () => string;
  exited: Promise<number | null>;
};

// Children still running, stopped when the bench process exits however it exits (a thrown
// error, or an EPIPE when its stdout is closed early): otherwise they outlive it, holding ports.
const running = new Set<ChildProcess>();
let exitHook = false;
function track(proc: ChildProcess): void {
  running.add(proc);
  proc.once('exit', () => running.delete(proc));
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const child of running) child.kill('SIGTERM');
  });
}

/** Spawns a child, keeping the last 64 KiB of its stdout+stderr; stopped if the bench exits first. */
export function start(
  name: string,
  command: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; stdin?: boolean } = {},
): Child {
  const proc = spawn(command, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: [opts.stdin === true ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  track(proc);
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-65_536);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => {
    proc.once('exit', (code) => resolve(code));
    proc.once('error', (error) => {
      keep(Buffer.from(`spawn error: ${error.message}\n`));
      resolve(null);
    });
  });
  return { proc, name, output: () => output, exited };
}

/** Runs a command to completion; rejects with its output on a non-zero exit or timeout. */
export async function runToEnd(
  name: string,
  command: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<string> {
  const child = start(name, command, args, opts);
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), opts.timeoutMs);
  const code = await child.exited;
  clearTimeout(timer);
  if (code !== 0) {
    throw new Error(
      `${name} exited with ${code ?? 'a signal/timeout'}:\n${child.output().slice(-4000)}`,
    );
  }
  return child.output();
}

/** Polls `url` until it answers 2xx, the child exits, or `timeoutMs` passes. */
export async function waitReady(child: Child, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void child.exited.then(() => {
    exited = true;
  });
  while (Date.now() < deadline && !exited) {
    try {
      const res = await request(url, { headersTimeout: 2000, bodyTimeout: 2000 });
      await res.body.dump();
      if (res.statusCode >= 200 && res.statusCode < 300) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  const why = exited ? 'exited' : `not ready after ${timeoutMs} ms`;
  throw new Error(`${child.name} ${why}:\n${child.output().slice(-4000)}`);
}

/** Stops a child we started, by its pid: SIGTERM, then SIGKILL after `graceMs`. */
export async function stop(child: Child, graceMs = 5000): Promise<void> {
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  child.proc.kill('SIGTERM');
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), graceMs);
  await child.exited;
  clearTimeout(timer);
}

function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

function descendants(pid: number): number[] {
  const all: number[] = [pid];
  for (let i = 0; i < all.length; i++) {
    try {
      const raw = readFileSync(`/proc/${all[i]}/task/${all[i]}/children`, 'utf8').trim();
      if (raw !== '') all.push(...raw.split(/\s+/).map(Number));
    } catch {
      // gone
    }
  }
  return all;
}

// utime + stime are fields 14 and 15 of /proc/<pid>/stat, in clock ticks (CLK_TCK is 100 on Linux).
function cpuTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

/** CPU time (user + system, ms) used so far by a process and its live descendants. */
export function cpuMs(pid: number): number {
  return descendants(pid).reduce((sum, p) => sum + cpuTicks(p), 0) * 10;
}

/** CPU time (ms) of the process itself and of its live descendants, separately. */
export function cpuSplitMs(pid: number): { own: number; descendants: number } {
  // descendants() lists the root first: read each /proc/<pid>/stat once, root included.
  const [own = 0, ...children] = descendants(pid).map((p) => cpuTicks(p) * 10);
  return { own, descendants: children.reduce((sum, ms) => sum + ms, 0) };
}

/** Samples the RSS of a process tree every `everyMs`; `peakMb()` is the peak of the sum. */
export class RssSampler {
  #pid: number;
  #peakKb = 0;
  #timer: NodeJS.Timeout;

  constructor(pid: number, everyMs = 200) {
    this.#pid = pid;
    this.#timer = setInterval(() => this.sample(), everyMs);
    this.#timer.unref();
  }

  /** Takes one sample now (also the high-water mark of the root, which catches short peaks). */
  sample(): void {
    const tree = descendants(this.#pid).reduce((sum, pid) => sum + statusKb(pid, 'VmRSS'), 0);
    this.#peakKb = Math.max(this.#peakKb, tree, statusKb(this.#pid, 'VmHWM'));
  }

  /** Peak RSS in MB so far; call before the process exits. */
  peakMb(): number {
    this.sample();
    return this.#peakKb / 1024;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
