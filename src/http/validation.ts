import type { z } from 'zod';
import { HttpError } from './http-error.ts';

/**
 * Validates request input; a 400 with every problem in one message otherwise. `withPaths` prefixes each
 * problem with the field it is about (for JSON bodies, whose messages do not name their field).
 */
export function parseInput<T>(schema: z.ZodType<T>, input: unknown, options: { withPaths?: boolean } = {}): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) =>
    options.withPaths && issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message,
  );
  throw new HttpError(400, 'bad_request', problems.join('; '));
}
