import { z } from 'zod';

// Cross-field rules of the ImageOptimizer API, each written once as CEL (for the API server,
// via the generated CRD) and once in TypeScript (for `next-image render` and tests).

/** A cross-field rule: CEL for the API server, `check` for everything else. */
export interface Rule<T> {
  rule: string;
  message: string;
  check: (value: T) => boolean;
  fieldPath?: string;
}

/** Attaches rules both as `x-kubernetes-validations` and as zod refinements. */
export function rules<S extends z.ZodType>(schema: S, list: Array<Rule<z.output<S>>>): S {
  const refined = schema.superRefine((value, ctx) => {
    for (const r of list) {
      if (!r.check(value)) {
        const path = r.fieldPath?.split('.').filter((p) => p !== '') ?? [];
        ctx.addIssue({ code: 'custom', message: r.message, path });
      }
    }
  });
  const validations = list.map(({ rule, message, fieldPath }) =>
    fieldPath === undefined ? { rule, message } : { rule, message, fieldPath },
  );
  return refined.meta({ 'x-kubernetes-validations': validations }) as S;
}

/** An integer schema with bounds (they also bound CEL cost). */
export const int = (min: number, max: number): z.ZodNumber => z.number().int().min(min).max(max);
