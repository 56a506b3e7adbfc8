import { readFile } from 'node:fs/promises';
import type { z } from 'zod';

/** Raised when a config file cannot be used; `problems` lists every problem found. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  readonly problems: string[];
  constructor(file: string, problems: string[]) {
    super(`${file} is not a valid config:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

/** Renders a zod issue path as a JSON path: `$.next.images.deviceSizes[2]`. */
export function jsonPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '$';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$]*$/.test(key)) out += `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

/** One line per zod issue, each starting with its JSON path. */
export function formatIssues(issues: ReadonlyArray<z.core.$ZodIssue>): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        lines.push(`${jsonPath([...issue.path, key])}: unknown key (check the spelling)`);
      }
    } else if (
      issue.code === 'invalid_union' &&
      issue.errors.length > 0 &&
      issue.message === 'Invalid input'
    ) {
      // Report the branch that got furthest, so the message names the real problem.
      const best = [...issue.errors].sort((a, b) => a.length - b.length)[0] ?? [];
      const nested = best.map((i) => ({ ...i, path: [...issue.path, ...i.path] }));
      lines.push(...formatIssues(nested as z.core.$ZodIssue[]));
    } else {
      lines.push(`${jsonPath(issue.path)}: ${issue.message}`);
    }
  }
  return [...new Set(lines)];
}

/** Parses `text` as JSON and validates it; throws ConfigError with every problem. */
export function parseConfigText<S extends z.ZodType>(
  file: string,
  text: string,
  schema: S,
): z.output<S> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error: unknown) {
    const message = error instanceof Error ? error.message : String(error);
    throw new ConfigError(file, [`$: not valid JSON (${message})`]);
  }
  const result = schema.safeParse(raw);
  if (!result.success) throw new ConfigError(file, formatIssues(result.error.issues));
  return result.data;
}

/** Reads a config file's text; throws ConfigError when it cannot be read. */
export async function readConfigText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error: unknown) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new ConfigError(file, [
      `cannot read the file (${code}); pass an existing JSON file with --config`,
    ]);
  }
}

/** Reads and validates a JSON config file; throws ConfigError with every problem. */
export async function loadConfigFile<S extends z.ZodType>(
  file: string,
  schema: S,
): Promise<z.output<S>> {
  return parseConfigText(file, await readConfigText(file), schema);
}
