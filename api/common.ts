import { z } from 'zod';

/** A positive integer, also written as a digit string (Platformatic's Ajv coerces those). */
export function positiveInt(what: string): z.ZodType<number> {
  return z.union([
    z.number().int(`${what} must be an integer`).min(1, `${what} must be at least 1`),
    z
      .string()
      .regex(/^[1-9][0-9]*$/, `${what} must be a positive integer`)
      .transform(Number),
  ]) as unknown as z.ZodType<number>;
}

/** A non-negative integer, also written as a digit string. */
export function nonNegativeInt(what: string): z.ZodType<number> {
  return z.union([
    z.number().int(`${what} must be an integer`).min(0, `${what} must be 0 or more`),
    z
      .string()
      .regex(/^[0-9]+$/, `${what} must be a non-negative integer`)
      .transform(Number),
  ]) as unknown as z.ZodType<number>;
}

/** An absolute http(s) URL. */
export const HttpUrlSchema = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}, 'must be an absolute http:// or https:// URL');

/** A TCP port. */
export const PortSchema = z.number().int().min(0).max(65535);

/** The Platformatic `server` block: only the keys that mean something here. */
export const ServerConfigSchema = z.strictObject({
  hostname: z.string().min(1).optional(),
  port: z
    .union([
      PortSchema,
      z
        .string()
        .regex(/^[0-9]+$/)
        .transform(Number),
    ])
    .optional(),
  logger: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
    })
    .optional(),
});
export type ServerConfig = z.infer<typeof ServerConfigSchema>;
