import { z } from 'zod';
import { WelcomePayloadSchema } from './welcome-server-message';

/** Successful hello response (fact sheet 1.4.5); `sessionid`/`resumeid`/`userid` are always present. */
export const HelloServerPayloadSchema = z.object({
  version: z.enum(['1.0', '2.0']),
  /** Public session id. */
  sessionid: z.string(),
  /** Private session id, used to resume. */
  resumeid: z.string(),
  /** User id, `""` for anonymous and internal sessions. */
  userid: z.string(),
  /** Deprecated copy of the welcome information. */
  server: WelcomePayloadSchema.optional(),
});
/** `hello` response payload. */
export type HelloServerPayload = z.infer<typeof HelloServerPayloadSchema>;

/** `{"id":..,"type":"hello","hello":{...}}`. */
export const HelloServerMessageSchema = z.object({
  id: z.string().min(1).optional(),
  type: z.literal('hello'),
  hello: HelloServerPayloadSchema,
});
/** `hello` response. */
export type HelloServerMessage = z.infer<typeof HelloServerMessageSchema>;
