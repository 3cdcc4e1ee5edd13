import { z } from 'zod';

/** Wire error object: `details` omitted when absent. */
export const ErrorPayloadSchema = z.object({
  code: z.string(),
  message: z.string(),
  details: z.unknown().optional(),
});

/** `{"id"?:..,"type":"error","error":{code,message,details?}}`. */
export const ErrorServerMessageSchema = z.object({
  id: z.string().min(1).optional(),
  type: z.literal('error'),
  error: ErrorPayloadSchema,
});
/** `error` message. */
export type ErrorServerMessage = z.infer<typeof ErrorServerMessageSchema>;
