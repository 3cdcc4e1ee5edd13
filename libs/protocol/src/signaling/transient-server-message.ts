import { z } from 'zod';

const present = z.unknown().refine((v) => v !== undefined && v !== null, { message: 'value is required' });

/** Transient data notifications (fact sheet 1.11). `oldvalue` only when there was one. */
export const TransientServerPayloadSchema = z.union([
  z.object({ type: z.literal('set'), key: z.string().min(1), value: present, oldvalue: z.unknown().optional() }),
  z.object({ type: z.literal('remove'), key: z.string().min(1), oldvalue: z.unknown().optional() }),
  z.object({ type: z.literal('initial'), data: z.record(z.string(), z.unknown()) }),
]);
/** `transient` payload. */
export type TransientServerPayload = z.infer<typeof TransientServerPayloadSchema>;

/** `{"type":"transient","transient":{...}}`. */
export const TransientServerMessageSchema = z.object({
  id: z.string().min(1).optional(),
  type: z.literal('transient'),
  transient: TransientServerPayloadSchema,
});
/** `transient` message. */
export type TransientServerMessage = z.infer<typeof TransientServerMessageSchema>;
