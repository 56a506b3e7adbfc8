import { cp, readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import {
  dockerignoreRules,
  dockerignored as ignoredBy,
} from '../../scripts/image/dockerfile-image.ts';
import { ROOT } from './install.ts';

// The Dockerfile and its build context (.dockerignore applied), read the way Docker reads
// them, so tests can run the image's build steps on the host without a container engine.

const rules = dockerignoreRules(await readFile(join(ROOT, '.dockerignore'), 'utf8'));

/** Whether .dockerignore keeps `path` (relative, or one of its parents) out of the build context. */
export function dockerignored(path: string): boolean {
  return ignoredBy(rules, path);
}

/** Copies the repository to `dest` as `docker build .` would send it: .dockerignore applied. */
export async function copyBuildContext(dest: string): Promise<string[]> {
  const copied: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      const rel = relative(ROOT, path);
      if (dockerignored(rel)) continue;
      if (entry.isDirectory()) {
        await walk(path);
      } else {
        await cp(path, join(dest, rel), { verbatimSymlinks: true });
        copied.push(rel);
      }
    }
  };
  await walk(ROOT);
  return copied;
}

/** One Dockerfile instruction, continuation lines joined. */
export interface Instruction {
  keyword: string;
  args: string;
}

/** A stage: its FROM line's arguments and its instructions. */
export interface Stage {
  from: string;
  instructions: Instruction[];
}

/** The Dockerfile's stages, with comments dropped and `\` continuations joined. */
export async function dockerfileStages(): Promise<Stage[]> {
  const text = await readFile(join(ROOT, 'Dockerfile'), 'utf8');
  const logical = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const stages: Stage[] = [];
  for (const line of logical) {
    const [keyword = '', ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    if (keyword.toUpperCase() === 'FROM') stages.push({ from: args, instructions: [] });
    else stages.at(-1)?.instructions.push({ keyword: keyword.toUpperCase(), args });
  }
  return stages;
}

/** The stage named `name` (`FROM … AS name`); throws if the Dockerfile has none. */
export async function dockerfileStage(name: string): Promise<Stage> {
  const stage = (await dockerfileStages()).find((s) => s.from.endsWith(` AS ${name}`));
  if (stage === undefined) throw new Error(`the Dockerfile has no stage "AS ${name}"`);
  return stage;
}

/** The shell commands of a stage's RUN instructions, BuildKit's `--mount=…` flags removed. */
export function runCommands(stage: Stage): string[] {
  return stage.instructions
    .filter((i) => i.keyword === 'RUN')
    .map((i) => i.args.replace(/^(--\S+\s+)+/, ''));
}
