import { z } from 'zod';

/** `version` of every signaling → Nextcloud request body. */
export const BACKEND_VERSION = '1.0';

/** `{"type":"auth","auth":{"version":"1.0","params":<hello params>}}` (fact sheet 3.3.1). */
export const BackendClientAuthRequestSchema = z.object({
  type: z.literal('auth'),
  auth: z.object({ version: z.literal(BACKEND_VERSION), params: z.unknown() }),
});
/** Hello 1.0 auth request. */
export type BackendClientAuthRequest = z.infer<typeof BackendClientAuthRequestSchema>;

/**
 * `{"type":"room","room":{...}}` (3.3.2): join has no `action`, leave has `"leave"`;
 * `userid` and `sessionid` are always present (may be `""`).
 */
export const BackendClientRoomRequestSchema = z.object({
  type: z.literal('room'),
  room: z.object({
    version: z.literal(BACKEND_VERSION),
    roomid: z.string(),
    action: z.string().min(1).optional(),
    userid: z.string(),
    sessionid: z.string(),
    actorid: z.string().min(1).optional(),
    actortype: z.string().min(1).optional(),
    incall: z.int().optional(),
  }),
});
/** Room join/leave request. */
export type BackendClientRoomRequest = z.infer<typeof BackendClientRoomRequestSchema>;

/** One session in a ping request. */
export const BackendPingEntrySchema = z.object({
  userid: z.string().min(1).optional(),
  sessionid: z.string(),
});
/** Ping entry. */
export type BackendPingEntry = z.infer<typeof BackendPingEntrySchema>;

/** `{"type":"ping","ping":{"version":"1.0","roomid":..,"entries":[...]}}` (3.3.3). */
export const BackendClientPingRequestSchema = z.object({
  type: z.literal('ping'),
  ping: z.object({
    version: z.literal(BACKEND_VERSION),
    /** `""` for combined requests across rooms. */
    roomid: z.string(),
    entries: z.array(BackendPingEntrySchema),
  }),
});
/** Session keep-alive request. */
export type BackendClientPingRequest = z.infer<typeof BackendClientPingRequestSchema>;

/** `{"type":"session","session":{...}}` (3.3.4), for virtual sessions without options. */
export const BackendClientSessionRequestSchema = z.object({
  type: z.literal('session'),
  session: z.object({
    version: z.literal(BACKEND_VERSION),
    roomid: z.string(),
    action: z.enum(['add', 'remove']),
    sessionid: z.string(),
    userid: z.string().min(1).optional(),
    user: z.unknown().optional(),
  }),
});
/** Virtual session add/remove request. */
export type BackendClientSessionRequest = z.infer<typeof BackendClientSessionRequestSchema>;

/** Any signaling → Nextcloud request body (used by the fake Nextcloud to validate). */
export const BackendClientRequestSchema = z.discriminatedUnion('type', [
  BackendClientAuthRequestSchema,
  BackendClientRoomRequestSchema,
  BackendClientPingRequestSchema,
  BackendClientSessionRequestSchema,
]);
/** Any signaling → Nextcloud request body. */
export type BackendClientRequest = z.infer<typeof BackendClientRequestSchema>;

/** Builds the hello 1.0 auth request; `params` is passed through untouched. */
export function newBackendClientAuthRequest(params: unknown): BackendClientAuthRequest {
  return { type: 'auth', auth: { version: BACKEND_VERSION, params } };
}

/** Builds a room join request (no `action`). */
export function newBackendClientRoomRequest(roomid: string, userid: string, sessionid: string): BackendClientRoomRequest {
  return { type: 'room', room: { version: BACKEND_VERSION, roomid, userid, sessionid } };
}

/** Builds a ping request. */
export function newBackendClientPingRequest(roomid: string, entries: BackendPingEntry[]): BackendClientPingRequest {
  return { type: 'ping', ping: { version: BACKEND_VERSION, roomid, entries } };
}

/** Builds a virtual session add/remove request; `userid`/`user` only when given. */
export function newBackendClientSessionRequest(
  roomid: string,
  action: 'add' | 'remove',
  sessionid: string,
  user?: { userid?: string; user?: unknown },
): BackendClientSessionRequest {
  const session: BackendClientSessionRequest['session'] = { version: BACKEND_VERSION, roomid, action, sessionid };
  if (user?.userid) session.userid = user.userid;
  if (user?.user !== undefined && user.user !== null) session.user = user.user;
  return { type: 'session', session };
}
