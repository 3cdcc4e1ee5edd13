import type { z } from 'zod';
import { invalidFormat } from './errors';
import type { ParseResult } from './parse-result';

/** Renders the first zod issue as `path.to.field: message` for {@link SignalingError.reason}. */
export function describeIssue(error: z.ZodError, prefix?: string): string {
  const issue = error.issues[0];
  if (issue === undefined) return prefix ?? 'invalid';
  const path = [...(prefix === undefined ? [] : [prefix]), ...issue.path.map(String)].join('.');
  return path === '' ? issue.message : `${path}: ${issue.message}`;
}

/**
 * Validates `value` with `schema`; failures become `invalid_format` whose `reason` names the
 * offending path (prefixed with `prefix`, e.g. the payload key of the message).
 */
export function parseWithSchema<S extends z.ZodType>(
  schema: S,
  value: unknown,
  prefix?: string,
  id?: string,
): ParseResult<z.output<S>> {
  const result = schema.safeParse(value);
  if (result.success) return { ok: true, value: result.data };
  const error = invalidFormat(describeIssue(result.error, prefix));
  return id === undefined ? { ok: false, error } : { ok: false, error, id };
}
