// zod validation of bodies, queries and path parameters: a failure is a 400
// VALIDATION_FAILED whose message names the field and what is wrong with it.
import type { z } from 'zod';
import { badRequest } from './http-error.ts';

export function parseInput<S extends z.ZodType>(schema: S, value: unknown, where: 'body' | 'query' | 'path' | 'argument'): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const field = issue.path.length > 0 ? issue.path.join('.') : '(root)';
    return `${where} field "${field}": ${issue.message}`;
  });
  throw badRequest('VALIDATION_FAILED', problems.join('; '));
}
