import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A time window of the bench, in ms since the profiled process was spawned. */
export type Phase = { name: string; fromMs: number; toMs: number };

type ProfileNode = {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
};
type CpuProfile = {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
};

const REPO_ROOT = new URL('../../', import.meta.url).href;

function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const name = functionName === '' ? '(anonymous)' : functionName;
  if (url === '') return name;
  const short = url.includes('/node_modules/')
    ? url.slice(url.lastIndexOf('/node_modules/') + 14)
    : url.replace(REPO_ROOT, '').replace('file://', '');
  return `${name} ${short}:${lineNumber + 1}`;
}

// Self time per frame for the samples that fall inside `phase`. The profile's clock starts when
// V8 starts profiling, a few ms after spawn: close enough for windows of seconds.
function selfTimes(
  profile: CpuProfile,
  phase: Phase,
): { total: number; byFrame: Map<string, number> } {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const byFrame = new Map<string, number>();
  let t = 0;
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta / 1000;
    if (t < phase.fromMs || t > phase.toMs) continue;
    const node = nodes.get(profile.samples[i]!);
    if (node === undefined) continue;
    const name = frameName(node);
    if (name === '(idle)') continue;
    total += delta / 1000;
    byFrame.set(name, (byFrame.get(name) ?? 0) + delta / 1000);
  }
  return { total, byFrame };
}

// Node names profiles CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile; workers or child
// processes that inherit --cpu-prof write their own, so pick the main thread of `pid`.
async function readProfile(
  dir: string,
  pid: number,
): Promise<{ file: string; profile: CpuProfile } | undefined> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
  const file = files.find((f) => f.includes(`.${pid}.0.`)) ?? files[0];
  if (file === undefined) return undefined;
  return { file, profile: JSON.parse(await readFile(join(dir, file), 'utf8')) as CpuProfile };
}

/** A stage of the main process and the script urls whose frames belong to it. */
export type Category = { name: string; urls: readonly string[] };

/**
 * Main-thread ms per category inside `phase`: each sample goes to the innermost frame of its
 * stack whose url contains one of a category's strings (so `writev` under process-pool.ts is
 * IPC, under fastify's reply it is HTTP); GC and samples matching none go to their own rows.
 */
export async function categorizeProfile(
  dir: string,
  pid: number,
  phase: Phase,
  categories: readonly Category[],
): Promise<Map<string, number> | undefined> {
  const read = await readProfile(dir, pid);
  if (read === undefined) return undefined;
  const { profile } = read;
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parents = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parents.set(child, node.id);
  const memo = new Map<number, string>();
  const categoryOf = (id: number): string => {
    const known = memo.get(id);
    if (known !== undefined) return known;
    const chain: number[] = [];
    let name: string | undefined;
    for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) {
      const hit = memo.get(at);
      if (hit !== undefined) {
        name = hit;
        break;
      }
      chain.push(at);
      const { url, functionName } = nodes.get(at)!.callFrame;
      if (functionName === '(garbage collector)') name = 'GC';
      else name = categories.find((c) => c.urls.some((u) => url.includes(u)))?.name;
      if (name !== undefined) break;
    }
    const result = name ?? 'other';
    for (const at of chain) memo.set(at, result);
    return result;
  };
  const totals = new Map<string, number>();
  let t = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = (profile.timeDeltas[i] ?? 0) / 1000;
    t += delta;
    if (t < phase.fromMs || t > phase.toMs) continue;
    const id = profile.samples[i]!;
    if (nodes.get(id)?.callFrame.functionName === '(idle)') continue;
    const name = categoryOf(id);
    totals.set(name, (totals.get(name) ?? 0) + delta);
  }
  return totals;
}

/** Markdown: the main JS thread's top self-time frames per phase (libvips threads not included). */
export async function summarizeProfile(
  dir: string,
  pid: number,
  phases: Phase[],
  top = 12,
): Promise<string> {
  const read = await readProfile(dir, pid);
  if (read === undefined) return `no .cpuprofile in ${dir}\n`;
  const { file, profile } = read;
  const lines: string[] = [
    '',
    `Samples of the main thread only (${file}). Syscall frames such`,
    'as `writev` include time spent runnable but descheduled after waking the client on the same',
    'cores: trust the CPU ms/req column for cost, and this list for what the JS itself does.',
  ];
  for (const phase of phases) {
    const { total, byFrame } = selfTimes(profile, phase);
    const seconds = (phase.toMs - phase.fromMs) / 1000;
    lines.push(
      '',
      `#### ${phase.name}: main thread busy ${(total / 1000).toFixed(2)} s of ${seconds.toFixed(1)} s`,
      '',
      '| self ms | % | frame |',
      '|---:|---:|---|',
    );
    const sorted = [...byFrame.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
    for (const [name, ms] of sorted) {
      const pct = total > 0 ? ((ms / total) * 100).toFixed(1) : '–';
      lines.push(`| ${ms.toFixed(0)} | ${pct} | \`${name.replaceAll('|', '\\|')}\` |`);
    }
  }
  return `${lines.join('\n')}\n`;
}
