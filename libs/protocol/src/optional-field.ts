import { z } from 'zod';

/**
 * An optional field that also accepts JSON `null` as "absent", the way the Go decoder treats
 * `null` for optional fields. The output never contains `null`.
 */
export function optionalField<S extends z.ZodType>(schema: S) {
  return schema.nullish().transform((value): z.output<S> | undefined => value ?? undefined);
}

/** A plain JSON object (not an array, not null) whose values are kept as they are. */
export const JsonObjectSchema = z.custom<Record<string, unknown>>(
  (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
  { message: 'Invalid input: expected object' },
);

/** True for a plain JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
