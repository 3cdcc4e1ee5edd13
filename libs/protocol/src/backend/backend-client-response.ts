import { z } from 'zod';
import { invalidFormat } from '../errors';
import type { ErrorPayload } from '../errors';
import { isJsonObject, optionalField } from '../optional-field';
import { describeIssue } from '../parse-with-schema';
import type { ParseResult } from '../parse-result';

const str = optionalField(z.string()).transform((v) => v ?? '');

/** `auth` response: `userid` `""` (or absent) means anonymous; `user` is opaque user data. */
export const BackendClientAuthResponseSchema = z.object({
  version: str,
  userid: optionalField(z.string()),
  user: z.unknown().optional(),
});
/** `room` response: `properties` opaque; `session.userid` is the room session's user id. */
export const BackendClientRoomResponseSchema = z.object({
  version: str,
  roomid: str,
  properties: z.unknown().optional(),
  session: optionalField(z.object({ userid: optionalField(z.string()) })),
  permissions: optionalField(z.array(z.string())),
});
/** `ping` response (ignored by the server). */
export const BackendClientPingResponseSchema = z.object({ version: str, roomid: str });
/** `session` response (not validated upstream). */
export const BackendClientSessionResponseSchema = z.object({ version: str, roomid: str });

/** Types of the response payloads. */
export type BackendClientAuthResponse = z.infer<typeof BackendClientAuthResponseSchema>;
export type BackendClientRoomResponse = z.infer<typeof BackendClientRoomResponseSchema>;
export type BackendClientPingResponse = z.infer<typeof BackendClientPingResponseSchema>;
export type BackendClientSessionResponse = z.infer<typeof BackendClientSessionResponseSchema>;

/** A Nextcloud answer to a signaling request (the `data` of the OCS envelope). */
export type BackendClientResponse =
  | { type: 'auth'; auth: BackendClientAuthResponse }
  | { type: 'room'; room: BackendClientRoomResponse }
  | { type: 'ping'; ping: BackendClientPingResponse }
  | { type: 'session'; session: BackendClientSessionResponse }
  | { type: 'error'; error: ErrorPayload };

const ErrorShape = z.object({
  code: str,
  message: str,
  details: z.unknown().optional(),
});

const SCHEMAS = {
  auth: BackendClientAuthResponseSchema,
  room: BackendClientRoomResponseSchema,
  ping: BackendClientPingResponseSchema,
  session: BackendClientSessionResponseSchema,
  error: ErrorShape,
} as const;

/**
 * Validates Nextcloud's response (already unwrapped from OCS, see `unwrapOcs`). A response whose
 * `type` is not one of auth/room/ping/session/error, or whose payload is missing or mistyped,
 * fails with `invalid_format` — callers map that to `auth_failed` / `room_join_failed` as
 * upstream does for "wrong type". Opaque parts (`user`, `properties`, error `details`) are the
 * decoded values themselves.
 */
export function parseBackendClientResponse(data: unknown): ParseResult<BackendClientResponse> {
  if (!isJsonObject(data)) return { ok: false, error: invalidFormat('response: expected JSON object') };
  const type = data['type'];
  if (typeof type !== 'string' || !Object.prototype.hasOwnProperty.call(SCHEMAS, type)) {
    return { ok: false, error: invalidFormat(`type: unsupported ${JSON.stringify(type ?? null)}`) };
  }
  const key = type as keyof typeof SCHEMAS;
  const payload = data[key];
  if (payload === undefined || payload === null) return { ok: false, error: invalidFormat(`${key}: required`) };
  const result = SCHEMAS[key].safeParse(payload);
  if (!result.success) return { ok: false, error: invalidFormat(describeIssue(result.error, key)) };
  const value = result.data as Record<string, unknown>;
  for (const k of Object.keys(value)) if (value[k] === undefined) delete value[k];
  return { ok: true, value: { type: key, [key]: value } as BackendClientResponse };
}
