import { z } from 'zod';
import { invalidFormat } from '../errors';
import { normalizeAbsoluteUrl } from '../normalize-url';
import { optionalField } from '../optional-field';
import { parseWithSchema } from '../parse-with-schema';
import type { ParseResult } from '../parse-result';

/** Federation part of a room join (section 9, feature `federation`). */
export interface RoomFederationPayload {
  /** Remote signaling server URL; a trailing `/` is appended when missing (as upstream). */
  signaling: string;
  /** Remote Nextcloud URL. */
  url: string;
  /** Room id on the remote side, if different. */
  roomid?: string;
  /** Hello 2.0 JWT for the remote server. */
  token: string;
}

/** `room` payload: join (`roomid` non-empty) or leave (`roomid` `""`). */
export interface RoomClientPayload {
  /** Room token; `""` (also when absent, as upstream) means "leave the current room". */
  roomid: string;
  /** Nextcloud room session id. */
  sessionid?: string;
  federation?: RoomFederationPayload;
}

/** `{"type":"room","room":{...}}`. */
export interface RoomClientMessage {
  id?: string;
  type: 'room';
  room: RoomClientPayload;
}

const RoomClientPayloadShape = z.object({
  roomid: optionalField(z.string()),
  sessionid: optionalField(z.string()),
  federation: optionalField(
    z.object({
      signaling: optionalField(z.string()),
      url: optionalField(z.string()),
      roomid: optionalField(z.string()),
      token: optionalField(z.string()),
    }),
  ),
});

/** Validates a room payload (fact sheet 1.6.1, section 9 federation). */
export function parseRoomPayload(raw: unknown, id?: string): ParseResult<RoomClientPayload> {
  const shape = parseWithSchema(RoomClientPayloadShape, raw, 'room');
  if (!shape.ok) return shape;
  const room = shape.value;
  const value: RoomClientPayload = { roomid: room.roomid ?? '' };
  if (room.sessionid) value.sessionid = room.sessionid;
  if (room.federation !== undefined) {
    const fed = room.federation;
    const fail = (reason: string): ParseResult<RoomClientPayload> => {
      const error = invalidFormat(reason);
      return id === undefined ? { ok: false, error } : { ok: false, error, id };
    };
    if (!fed.signaling) return fail('room.federation.signaling: required');
    const signalingUrl = fed.signaling.endsWith('/') ? fed.signaling : `${fed.signaling}/`;
    if (normalizeAbsoluteUrl(signalingUrl) === undefined) return fail('room.federation.signaling: invalid URL');
    if (!fed.url) return fail('room.federation.url: required');
    if (normalizeAbsoluteUrl(fed.url) === undefined) return fail('room.federation.url: invalid URL');
    if (!fed.token) return fail('room.federation.token: required');
    const federation: RoomFederationPayload = { signaling: signalingUrl, url: fed.url, token: fed.token };
    if (fed.roomid) federation.roomid = fed.roomid;
    value.federation = federation;
  }
  return { ok: true, value };
}
