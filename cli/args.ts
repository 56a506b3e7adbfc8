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
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
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
