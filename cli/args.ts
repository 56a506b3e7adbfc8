import { type ParseArgsConfig, parseArgs } from 'node:util';

/** Raised for a bad command line; the message says what to change. */
export class UsageError extends Error {
  readonly code = 'USAGE';
}

/** Parses argv for one subcommand, turning node's errors into UsageError. */
export function parseCommandArgs<T extends ParseArgsConfig['options']>(
  argv: string[],
  options: T,
  allowPositionals = false,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options,
      allowPositionals,
      strict: true,
    });
    return { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (error: unknown) {
    const message = error instanceof Error ? error.message : String(error);
    const code = (error as { code?: string }).code;
    const unknown = /Unknown option '(-{1,2}[^']+)'/.exec(message)?.[1];
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && unknown !== undefined) {
      const names = Object.keys(options ?? {}).map((n) => `--${n}`);
      const near = nearest(unknown, names);
      throw new UsageError(
        `unknown flag ${unknown}${near === undefined ? '' : `; did you mean ${near}?`} (--help lists them)`,
      );
    }
    throw new UsageError(message);
  }
}

/** The candidate closest to `word` by edit distance, if it is close enough to be a typo (pure). */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const d = editDistance(word, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  // A third of the word may differ: --confg → --config, not --port → --config.
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3))
    ? best
    : undefined;
}

// Levenshtein distance, two rows: flag names are short, a library would be overkill.
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** Parses a --port value. */
export function parsePort(
  value: string | boolean | undefined,
  flag = '--port',
): number | undefined {
  if (value === undefined || typeof value === 'boolean') return undefined;
  if (!/^[0-9]+$/.test(value) || Number(value) > 65535) {
    throw new UsageError(`${flag} must be a port number between 0 and 65535, got "${value}"`);
  }
  return Number(value);
}
