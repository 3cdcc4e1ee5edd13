import { z } from 'zod';

const id = z.string().min(1).optional();

/** Entry of a room `join` (and the never-sent `change`) event (fact sheet 1.7.1, section 9). */
export const EventSessionEntrySchema = z.object({
  sessionid: z.string(),
  /** Always present, `""` for anonymous sessions. */
  userid: z.string(),
  /** Client features from the hello (feature `join-features`). */
  features: z.array(z.string()).min(1).optional(),
  /** Opaque user data from the auth backend. */
  user: z.unknown().optional(),
  roomsessionid: z.string().min(1).optional(),
  /** Only for federated sessions. */
  federated: z.literal(true).optional(),
});
/** Session entry of a `join` event. */
export type EventSessionEntry = z.infer<typeof EventSessionEntrySchema>;

/** `{roomid, properties?}` of roomlist `invite`/`update`. */
export const RoomlistPayloadSchema = z.object({
  roomid: z.string(),
  properties: z.unknown().optional(),
});

/** `disinvite` reasons. */
export const DisinviteReason = { Disinvited: 'disinvited', Deleted: 'deleted' } as const;

/** Participants `update` payload: either a users list or an all-sessions in-call change. */
export const ParticipantsUpdatePayloadSchema = z.object({
  roomid: z.string(),
  /** NC participant objects (opaque apart from `sessionId`, `inCall`, …). */
  users: z.array(z.record(z.string(), z.unknown())).optional(),
  /** Never sent to clients (merged into `users`), kept for internal use. */
  changed: z.array(z.record(z.string(), z.unknown())).optional(),
  /** With `all`: the in-call flags (int). */
  incall: z.unknown().optional(),
  all: z.literal(true).optional(),
});
/** Participants update payload. */
export type ParticipantsUpdatePayload = z.infer<typeof ParticipantsUpdatePayloadSchema>;

/** The individual event shapes, one per (target, type). */
export const RoomJoinEventSchema = z.object({
  target: z.literal('room'),
  type: z.literal('join'),
  join: z.array(EventSessionEntrySchema),
});
export const RoomLeaveEventSchema = z.object({
  target: z.literal('room'),
  type: z.literal('leave'),
  leave: z.array(z.string()),
});
export const RoomChangeEventSchema = z.object({
  target: z.literal('room'),
  type: z.literal('change'),
  change: z.array(EventSessionEntrySchema),
});
export const RoomMessageEventSchema = z.object({
  target: z.literal('room'),
  type: z.literal('message'),
  message: z.object({ roomid: z.string(), data: z.unknown().optional() }),
});
export const RoomSwitchtoEventSchema = z.object({
  target: z.literal('room'),
  type: z.literal('switchto'),
  switchto: z.object({ roomid: z.string(), details: z.unknown().optional() }),
});
export const RoomDeleteEventSchema = z.object({ target: z.literal('room'), type: z.literal('delete') });
export const RoomFederationInterruptedEventSchema = z.object({
  target: z.literal('room'),
  type: z.literal('federation_interrupted'),
});
export const RoomFederationResumedEventSchema = z.object({
  target: z.literal('room'),
  type: z.literal('federation_resumed'),
  /** `true` if the remote session was resumed, `false` if a new one was created. */
  resumed: z.boolean(),
});
export const RoomlistInviteEventSchema = z.object({
  target: z.literal('roomlist'),
  type: z.literal('invite'),
  invite: RoomlistPayloadSchema,
});
export const RoomlistDisinviteEventSchema = z.object({
  target: z.literal('roomlist'),
  type: z.literal('disinvite'),
  disinvite: RoomlistPayloadSchema.extend({ reason: z.enum(['disinvited', 'deleted']) }),
});
export const RoomlistUpdateEventSchema = z.object({
  target: z.literal('roomlist'),
  type: z.literal('update'),
  update: RoomlistPayloadSchema,
});
export const ParticipantsUpdateEventSchema = z.object({
  target: z.literal('participants'),
  type: z.literal('update'),
  update: ParticipantsUpdatePayloadSchema,
});
export const ParticipantsFlagsEventSchema = z.object({
  target: z.literal('participants'),
  type: z.literal('flags'),
  flags: z.object({ roomid: z.string(), sessionid: z.string(), flags: z.int().min(0).max(0xffff_ffff) }),
});

/** The `event` payload (fact sheet 1.7, section 9). Narrow on `target`, then `type`. */
export const EventServerPayloadSchema = z.union([
  RoomJoinEventSchema,
  RoomLeaveEventSchema,
  RoomChangeEventSchema,
  RoomMessageEventSchema,
  RoomSwitchtoEventSchema,
  RoomDeleteEventSchema,
  RoomFederationInterruptedEventSchema,
  RoomFederationResumedEventSchema,
  RoomlistInviteEventSchema,
  RoomlistDisinviteEventSchema,
  RoomlistUpdateEventSchema,
  ParticipantsUpdateEventSchema,
  ParticipantsFlagsEventSchema,
]);
/** `event` payload. */
export type EventServerPayload = z.infer<typeof EventServerPayloadSchema>;
/** Event targets. */
export type EventTarget = EventServerPayload['target'];

/** `{"type":"event","event":{target,type,...}}`. */
export const EventServerMessageSchema = z.object({
  id,
  type: z.literal('event'),
  event: EventServerPayloadSchema,
});
/** `event` message. */
export type EventServerMessage = z.infer<typeof EventServerMessageSchema>;
