import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A time window of the bench, in ms since the profiled process was spawned. */
export type Phase = { name: string; fromMs: number; toMs: number };

type ProfileNode = {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
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

/** Markdown: the main JS thread's top self-time frames per phase (libvips threads not included). */
export async function summarizeProfile(
  dir: string,
  pid: number,
  phases: Phase[],
  top = 12,
): Promise<string> {
  // Node names profiles CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile; workers or child
  // processes that inherit --cpu-prof write their own, so pick the main thread of `pid`.
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
  const file = files.find((f) => f.includes(`.${pid}.0.`)) ?? files[0];
  if (file === undefined) return `no .cpuprofile in ${dir}\n`;
  const profile = JSON.parse(await readFile(join(dir, file), 'utf8')) as CpuProfile;
  const lines: string[] = [
    '',
    `Samples of the main thread only (${file}; ${files.length} profile(s) written). Syscall frames such`,
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
