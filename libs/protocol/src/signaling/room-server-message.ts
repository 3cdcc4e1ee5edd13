import { z } from 'zod';

/** Bitrate caps announced with a room (upstream 2.1.0). */
export const RoomBandwidthSchema = z.object({
  maxstreambitrate: z.number(),
  maxscreenbitrate: z.number(),
});

/** `room` payload: `roomid` always present (`""` after leaving), `properties` opaque NC data. */
export const RoomServerPayloadSchema = z.object({
  roomid: z.string(),
  properties: z.unknown().optional(),
  bandwidth: RoomBandwidthSchema.optional(),
});
/** `room` payload. */
export type RoomServerPayload = z.infer<typeof RoomServerPayloadSchema>;

/** Join/leave confirmation and unsolicited room updates (fact sheet 1.6). */
export const RoomServerMessageSchema = z.object({
  id: z.string().min(1).optional(),
  type: z.literal('room'),
  room: RoomServerPayloadSchema,
});
/** `room` message. */
export type RoomServerMessage = z.infer<typeof RoomServerMessageSchema>;

/** `details` of the `already_joined` error: `{"room":{roomid,properties?}}`. */
export const AlreadyJoinedDetailsSchema = z.object({ room: RoomServerPayloadSchema });
/** `already_joined` details. */
export type AlreadyJoinedDetails = z.infer<typeof AlreadyJoinedDetailsSchema>;
