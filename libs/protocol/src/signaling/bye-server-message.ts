import { z } from 'zod';

/** Reasons of server-initiated byes (fact sheet 1.5). */
export const ByeReason = {
  HelloTimeout: 'hello_timeout',
  RoomJoinTimeout: 'room_join_timeout',
  SessionResumed: 'session_resumed',
  RoomSessionReconnected: 'room_session_reconnected',
} as const;

/** `bye` payload; only present when there is a reason. */
export const ByeServerPayloadSchema = z.object({ reason: z.string().min(1) });

/**
 * `{"id":..,"type":"bye"}` (reply to a client bye: **no** `bye` object) or
 * `{"type":"bye","bye":{"reason":..}}` (server-initiated).
 */
export const ByeServerMessageSchema = z.object({
  id: z.string().min(1).optional(),
  type: z.literal('bye'),
  bye: ByeServerPayloadSchema.optional(),
});
/** `bye` message. */
export type ByeServerMessage = z.infer<typeof ByeServerMessageSchema>;
