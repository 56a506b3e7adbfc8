import type { z } from 'zod';
import { ConfigError, parseConfigText } from '../../lib/config-file.ts';

/** Every problem the config loader reports for `raw` against `schema`; empty when it is valid. */
export function configProblems(schema: z.ZodType, raw: unknown): string[] {
  try {
    parseConfigText('test.json', JSON.stringify(raw), schema);
  } catch (error: unknown) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}
