import { z } from 'zod';
import { invalidFormat, SignalingError, signalingError } from '../errors';
import { JsonObjectSchema, optionalField } from '../optional-field';
import { describeIssue } from '../parse-with-schema';
import type { ParseResult } from '../parse-result';

const StringList = optionalField(z.array(z.string()));
const ParticipantList = optionalField(z.array(JsonObjectSchema));

/** `invite` (fact sheet 2.3.1). */
export const BackendRoomInviteSchema = z.object({
  userids: StringList,
  alluserids: StringList,
  properties: z.unknown().optional(),
});
/** `disinvite` (2.3.2). */
export const BackendRoomDisinviteSchema = z.object({
  userids: StringList,
  /** Nextcloud session ids (`"0"` is skipped by the server). */
  sessionids: StringList,
  alluserids: StringList,
  properties: z.unknown().optional(),
});
/** `update` (2.3.3). */
export const BackendRoomUpdateSchema = z.object({ userids: StringList, properties: z.unknown().optional() });
/** `delete` (2.3.4). */
export const BackendRoomDeleteSchema = z.object({ userids: StringList });
/** `participants` (2.3.5); entries are NC participant objects, kept as sent. */
export const BackendRoomParticipantsSchema = z.object({ changed: ParticipantList, users: ParticipantList });
/** `incall` (2.3.6): `incall` may be an int or a bool (`true` ⇒ 1). */
export const BackendRoomInCallSchema = z.object({
  incall: optionalField(z.union([z.int(), z.boolean()])),
  all: optionalField(z.boolean()),
  changed: ParticipantList,
  users: ParticipantList,
});
/** `message` (2.3.7): empty/absent `data` means nothing is sent. */
export const BackendRoomMessageSchema = z.object({ data: z.unknown().optional() });
/** `switchto` (2.3.9): `sessions` is a list of NC session ids or a map id → details (or null). */
export const BackendRoomSwitchToSchema = z.object({
  roomid: optionalField(z.string()).transform((v) => v ?? ''),
  sessions: optionalField(z.union([z.array(z.string()), z.record(z.string(), z.unknown())])),
});
/** `dialout` (2.3.10). */
export const BackendRoomDialoutSchema = z.object({
  number: optionalField(z.string()).transform((v) => v ?? ''),
  options: z.unknown().optional(),
});
/** `transient` (2.3.8): exists upstream for NATS, not accepted over HTTP at v1.3.0. */
export const BackendRoomTransientSchema = z.object({
  action: z.enum(['set', 'delete']),
  key: z.string(),
  value: z.unknown().optional(),
  ttl: optionalField(z.int()),
});

/** Payload types of the backend room requests. */
export type BackendRoomInvite = z.infer<typeof BackendRoomInviteSchema>;
export type BackendRoomDisinvite = z.infer<typeof BackendRoomDisinviteSchema>;
export type BackendRoomUpdate = z.infer<typeof BackendRoomUpdateSchema>;
export type BackendRoomDelete = z.infer<typeof BackendRoomDeleteSchema>;
export type BackendRoomParticipants = z.infer<typeof BackendRoomParticipantsSchema>;
export type BackendRoomInCall = z.infer<typeof BackendRoomInCallSchema>;
export type BackendRoomMessage = z.infer<typeof BackendRoomMessageSchema>;
export type BackendRoomSwitchTo = z.infer<typeof BackendRoomSwitchToSchema>;
export type BackendRoomDialout = z.infer<typeof BackendRoomDialoutSchema>;
export type BackendRoomTransient = z.infer<typeof BackendRoomTransientSchema>;

/** Body of `POST /api/v1/room/{roomid}` (fact sheet 2.2/2.3), discriminated by `type`. */
export type BackendRoomRequest =
  | { type: 'invite'; invite: BackendRoomInvite }
  | { type: 'disinvite'; disinvite: BackendRoomDisinvite }
  | { type: 'update'; update: BackendRoomUpdate }
  | { type: 'delete'; delete: BackendRoomDelete }
  | { type: 'participants'; participants: BackendRoomParticipants }
  | { type: 'incall'; incall: BackendRoomInCall }
  | { type: 'message'; message: BackendRoomMessage }
  | { type: 'switchto'; switchto: BackendRoomSwitchTo }
  | { type: 'dialout'; dialout: BackendRoomDialout }
  | { type: 'transient'; transient: BackendRoomTransient };

/** Request types of the backend room API. */
export type BackendRoomRequestType = BackendRoomRequest['type'];

const PAYLOAD_SCHEMAS = {
  invite: BackendRoomInviteSchema,
  disinvite: BackendRoomDisinviteSchema,
  update: BackendRoomUpdateSchema,
  delete: BackendRoomDeleteSchema,
  participants: BackendRoomParticipantsSchema,
  incall: BackendRoomInCallSchema,
  message: BackendRoomMessageSchema,
  switchto: BackendRoomSwitchToSchema,
  dialout: BackendRoomDialoutSchema,
  transient: BackendRoomTransientSchema,
} as const satisfies Record<BackendRoomRequestType, z.ZodType>;

/** Code of the error for a request `type` the API does not know (HTTP 400 upstream). */
export const UNSUPPORTED_REQUEST_TYPE = 'unsupported_request_type';

/** E.164 check of upstream: `+` and at least two digits. */
const E164 = /^\+\d{2,}$/;

/**
 * Validates a decoded backend room request. Failures:
 * - unknown `type` → code {@link UNSUPPORTED_REQUEST_TYPE}, message
 *   `Unsupported request type: <type>` (the upstream 400 text);
 * - missing/invalid payload → `invalid_format` (`reason` has the path);
 * - dialout number empty / not E.164 → `number_missing` / `invalid_number` (2.3.10).
 *
 * Opaque values (`properties`, `data`, participant entries, `options`, switchto details) are
 * the decoded values themselves. `switchto.sessions` stays a list or a map as sent.
 */
export function parseBackendRoomRequest(body: unknown): ParseResult<BackendRoomRequest> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, error: invalidFormat('body: expected JSON object') };
  }
  const raw = body as Record<string, unknown>;
  const type = raw['type'];
  if (typeof type !== 'string' || !Object.prototype.hasOwnProperty.call(PAYLOAD_SCHEMAS, type)) {
    const text = typeof type === 'string' ? type : JSON.stringify(type ?? '');
    const error = new SignalingError(UNSUPPORTED_REQUEST_TYPE, `Unsupported request type: ${text}`);
    error.reason = `type: unsupported ${JSON.stringify(type ?? null)}`;
    return { ok: false, error };
  }
  const key = type as BackendRoomRequestType;
  const payload = raw[key];
  if (payload === undefined || payload === null) return { ok: false, error: invalidFormat(`${key}: required`) };
  const result = PAYLOAD_SCHEMAS[key].safeParse(payload);
  if (!result.success) return { ok: false, error: invalidFormat(describeIssue(result.error, key)) };

  if (key === 'dialout') {
    const dialout = result.data as BackendRoomDialout;
    if (dialout.number === '') return { ok: false, error: signalingError('number_missing') };
    if (!E164.test(dialout.number)) return { ok: false, error: signalingError('invalid_number') };
  }
  return { ok: true, value: { type: key, [key]: stripUndefined(result.data as Record<string, unknown>) } as BackendRoomRequest };
}

function stripUndefined<T extends Record<string, unknown>>(value: T): T {
  for (const k of Object.keys(value)) if (value[k] === undefined) delete value[k];
  return value;
}

/** Dialout response `{"type":"dialout","dialout":{"callid":..}}` or `{..."dialout":{"error":{...}}}`. */
export const BackendRoomDialoutResponseSchema = z.object({
  type: z.literal('dialout'),
  dialout: z.union([
    z.object({ callid: z.string().min(1) }),
    z.object({
      error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
    }),
  ]),
});
/** Dialout response body of the backend room API. */
export type BackendRoomDialoutResponse = z.infer<typeof BackendRoomDialoutResponseSchema>;

/** The successful dialout response body. */
export function dialoutSuccessResponse(callid: string): BackendRoomDialoutResponse {
  return { type: 'dialout', dialout: { callid } };
}

/** The dialout error response body (sent with the HTTP status of fact sheet 2.3.10). */
export function dialoutErrorResponse(error: SignalingError): BackendRoomDialoutResponse {
  return { type: 'dialout', dialout: { error: error.toPayload() } };
}
