import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Job } from './jobs.ts';
import { type Child, start, stop } from './proc.ts';
import type { Row } from './report.ts';
import { type BenchSettings, errorText } from './serve-load.ts';
import type { SharpChildInput, SharpChildOutput } from './sharp-child.ts';
import { summarize } from './stats.ts';

const SCRIPT = new URL('./sharp-child.ts', import.meta.url).pathname;

/** Row (a) or (a2) and each job's output size (from the first child's warm-up). */
export type RawSharpResult = { row: Row; outputBytes: number[] };

async function untilLine(child: Child, line: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!child.output().split('\n').includes(line)) {
    if (child.proc.exitCode !== null || Date.now() > deadline) {
      throw new Error(`raw sharp child did not get ready:\n${child.output().slice(-3000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function merge(outputs: SharpChildOutput[]): SharpChildOutput {
  const first = outputs[0]!;
  if (outputs.length === 1) return first;
  const ok = (o: SharpChildOutput): number => o.stats.count - o.stats.errors;
  const cpu = outputs.reduce((sum, o) => sum + (o.stats.cpuMsPerOp ?? 0) * o.stats.count, 0);
  const stats = summarize({
    latenciesMs: outputs.flatMap((o) => o.latenciesMs),
    errors: outputs.reduce((sum, o) => sum + o.stats.errors, 0),
    durationMs: Math.max(...outputs.map((o) => o.stats.durationMs)),
    bytes: outputs.reduce((sum, o) => sum + o.stats.meanBytes * ok(o), 0),
    notes: [`${outputs.length} processes × (${first.stats.notes.join('; ')})`],
  });
  if (stats.count > 0) stats.cpuMsPerOp = cpu / stats.count;
  const peakRssMb = outputs.reduce((sum, o) => sum + o.peakRssMb, 0);
  return { stats, latenciesMs: [], peakRssMb, outputBytes: first.outputBytes };
}

/**
 * Column (a): raw sharp with Next's settings, `processes` child processes sharing the job mix
 * (each with transformConcurrency / processes jobs in flight). One process is what the issue
 * asks for; one per transform slot is how the optimizer runs its transforms.
 */
export async function rawSharpColumn(
  jobs: Job[],
  s: BenchSettings,
  processes: number,
): Promise<RawSharpResult> {
  const id = processes === 1 ? 'a' : 'a2';
  const label =
    processes === 1
      ? 'raw sharp, Next encoder settings, 1 process'
      : `raw sharp, Next encoder settings, ${processes} processes`;
  const children: Child[] = [];
  try {
    for (let k = 0; k < processes; k++) {
      const input: SharpChildInput = {
        jobs: jobs.map((j) => ({
          file: j.image.path,
          width: j.width,
          quality: j.quality,
          output: j.output,
        })),
        concurrency: Math.max(1, Math.floor(s.transformConcurrency / processes)),
        count: Math.ceil(s.missCount / processes),
        maxMs: s.missMaxMs,
        sharpThreads: s.sharpThreads,
        offset: k,
        stride: processes,
      };
      const file = join(s.workDir, `sharp-input-${k}.json`);
      await writeFile(file, JSON.stringify(input));
      children.push(start(`raw sharp ${k}`, process.execPath, [SCRIPT, file], { stdin: true }));
    }
    for (const child of children) await untilLine(child, 'ready', s.missMaxMs);
    // Release every child at once, so the timed runs overlap.
    for (const child of children) child.proc.stdin?.write('go\n');
    const codes = await Promise.all(children.map((c) => c.exited));
    const outputs = children.map((child, k) => {
      const last = child.output().trim().split('\n').at(-1) ?? '';
      if (codes[k] !== 0 || !last.startsWith('{')) {
        throw new Error(`raw sharp child exited with ${codes[k]}:\n${child.output().slice(-3000)}`);
      }
      return JSON.parse(last) as SharpChildOutput;
    });
    const result = merge(outputs);
    const row: Row = {
      id,
      label,
      stats: result.stats,
      peakRssMb: result.peakRssMb,
      concurrency: s.transformConcurrency,
    };
    return { row, outputBytes: result.outputBytes };
  } catch (error: unknown) {
    return { row: { id, label, error: errorText(error) }, outputBytes: [] };
  } finally {
    for (const child of children) await stop(child);
  }
}
