import { z } from 'zod';

/** The phone call to place (Nextcloud `dialout` request contents). */
export const DialoutRequestContentsSchema = z.object({
  number: z.string(),
  options: z.unknown().optional(),
});

/** Server → internal client dialout request (fact sheet 1.12.6). */
export const InternalServerDialoutRequestSchema = z.object({
  /** Numeric Nextcloud room id. */
  roomid: z.string(),
  /** Backend base URL ending in `/`. */
  backend: z.string(),
  request: DialoutRequestContentsSchema,
});
/** Dialout request to an internal client. */
export type InternalServerDialoutRequest = z.infer<typeof InternalServerDialoutRequestSchema>;

/** `{"id":"<32 hex>","type":"internal","internal":{"type":"dialout","dialout":{...}}}`. */
export const InternalServerMessageSchema = z.object({
  id: z.string().min(1).optional(),
  type: z.literal('internal'),
  internal: z.object({ type: z.literal('dialout'), dialout: InternalServerDialoutRequestSchema }),
});
/** `internal` message (to internal clients only). */
export type InternalServerMessage = z.infer<typeof InternalServerMessageSchema>;
