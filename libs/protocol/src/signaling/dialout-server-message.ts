import { z } from 'zod';
import { ErrorPayloadSchema } from './error-server-message';

/** Dialout status as broadcast (`status` object of an internal client's dialout message). */
export const DialoutStatusSchema = z.object({
  callid: z.string(),
  status: z.string(),
  cause: z.string().min(1).optional(),
  code: z.int().optional(),
  message: z.string().min(1).optional(),
});

/**
 * `{"type":"dialout","dialout":{type,...}}`: dialout messages of internal clients other than
 * replies, broadcast to the room with `roomid` removed (fact sheet 1.12.6).
 */
export const DialoutServerMessageSchema = z.object({
  id: z.string().min(1).optional(),
  type: z.literal('dialout'),
  dialout: z.object({
    type: z.string().min(1),
    error: ErrorPayloadSchema.optional(),
    status: DialoutStatusSchema.optional(),
  }),
});
/** `dialout` room broadcast. */
export type DialoutServerMessage = z.infer<typeof DialoutServerMessageSchema>;
