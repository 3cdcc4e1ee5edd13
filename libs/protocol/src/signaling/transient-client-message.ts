import { z } from 'zod';
import { invalidFormat } from '../errors';
import { optionalField } from '../optional-field';
import { parseWithSchema } from '../parse-with-schema';
import type { ParseResult } from '../parse-result';

/**
 * `transient` payload. `type` is `set` or `remove` for the operations the server knows; any
 * other non-empty type parses so that the app can answer `ignored`.
 */
export interface TransientClientPayload {
  type: 'set' | 'remove' | (string & {});
  /** Non-empty for `set` and `remove`. */
  key?: string;
  /** Opaque value for `set`; absent (or null) removes the key. */
  value?: unknown;
  /** Time to live in nanoseconds (integer, Go `time.Duration`). */
  ttl?: number;
}

/** `{"type":"transient","transient":{...}}`. */
export interface TransientClientMessage {
  id?: string;
  type: 'transient';
  transient: TransientClientPayload;
}

const TransientClientPayloadShape = z.object({
  type: optionalField(z.string()),
  key: optionalField(z.string()),
  value: z.unknown().optional(),
  ttl: optionalField(z.int()),
});

/** Validates a transient payload (fact sheet 1.11). */
export function parseTransientPayload(raw: unknown, id?: string): ParseResult<TransientClientPayload> {
  const shape = parseWithSchema(TransientClientPayloadShape, raw, 'transient');
  if (!shape.ok) return shape;
  const t = shape.value;
  const fail = (reason: string): ParseResult<TransientClientPayload> => {
    const error = invalidFormat(reason);
    return id === undefined ? { ok: false, error } : { ok: false, error, id };
  };
  if (!t.type) return fail('transient.type: required');
  if ((t.type === 'set' || t.type === 'remove') && !t.key) return fail(`transient.key: required for ${t.type}`);
  const value: TransientClientPayload = { type: t.type };
  if (t.key) value.key = t.key;
  if (t.value !== undefined && t.value !== null) value.value = t.value;
  if (t.ttl !== undefined) value.ttl = t.ttl;
  return { ok: true, value };
}
