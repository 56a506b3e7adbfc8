import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError, formatIssues } from './config-file.ts';
import type { NextBuiltConfig } from './next-images.ts';

// Reads the images config of a built Next.js app. Only the build output is read, never
// next.config.{js,mjs,ts}: loading that file runs the team's code (and whatever it imports),
// and what it exports is not yet what Next enforces — `next build` applies the defaults of the
// app's own Next version, turns `new URL(…)` patterns into objects and appends the patterns it
// adds for static imports and an http(s) assetPrefix. `.next/required-server-files.json`
// holds that result with the patterns still as globs (`images-manifest.json` has them
// compiled to regular expressions, which cannot be turned back).

const FILE = 'required-server-files.json';
const CONFIG_NAMES = ['next.config.js', 'next.config.mjs', 'next.config.ts', 'next.config.cjs'];

const RequiredServerFilesSchema = z.looseObject({
  config: z.looseObject({
    images: z.record(z.string(), z.unknown()),
    basePath: z.string().optional(),
    assetPrefix: z.string().optional(),
  }),
});

/** No usable Next.js build where one was pointed at; `problems` says what to do. */
export class NextBuildError extends ConfigError {
  constructor(where: string, problems: string[]) {
    super(where, problems);
    this.message = `${where}: ${problems.join('; ')}`;
  }
}

/** A Next.js build's images config, and the file it came from. */
export interface NextBuild extends NextBuiltConfig {
  file: string;
  /** Problems worth telling (a next.config newer than the build). */
  warnings: string[];
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() === true;
}

/** Where the build's required-server-files.json is: `<dir>/.next/…`, or `<dir>/…` for a distDir. */
async function locate(dir: string): Promise<string> {
  const root = resolve(dir);
  const info = await stat(root).catch(() => undefined);
  if (info === undefined || !info.isDirectory())
    throw new NextBuildError(dir, ['not a directory: pass a Next.js app directory or its .next']);
  for (const candidate of [join(root, '.next', FILE), join(root, FILE)]) {
    if (await isFile(candidate)) return candidate;
  }
  throw new NextBuildError(dir, [
    `no Next.js build here (no .next/${FILE}): run \`next build\` in it first — next-image reads the build output and never runs next.config; with a custom distDir, pass that directory`,
  ]);
}

/** The next.config next to a build that was changed after it, if any. */
async function newerConfig(appDir: string, builtAt: number): Promise<string | undefined> {
  for (const name of CONFIG_NAMES) {
    const info = await stat(join(appDir, name)).catch(() => undefined);
    if (info !== undefined && info.mtimeMs > builtAt) return name;
  }
  return undefined;
}

/** Reads the images config of the Next.js build in `dir` (an app directory or its .next). */
export async function readNextBuild(dir: string): Promise<NextBuild> {
  const file = await locate(dir);
  const text = await readFile(file, 'utf8');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error: unknown) {
    throw new ConfigError(file, [`$: not valid JSON (${(error as Error).message})`]);
  }
  const parsed = RequiredServerFilesSchema.safeParse(raw);
  if (!parsed.success)
    throw new ConfigError(file, [
      ...formatIssues(parsed.error.issues),
      'this does not look like the output of Next.js 13.4 or later; run `next build` again',
    ]);
  const { images, basePath, assetPrefix } = parsed.data.config;
  const warnings: string[] = [];
  const builtAt = (await stat(file)).mtimeMs;
  const changed = await newerConfig(resolve(file, '..', '..'), builtAt);
  if (changed !== undefined)
    warnings.push(`${changed} changed after the last \`next build\`: build again to import it`);
  return { file, images, basePath, assetPrefix, warnings };
}
