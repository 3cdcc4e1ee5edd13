import { invalidFormat } from '../errors';
import { parseJsonLimited } from '../json-limits';
import type { ParseResult } from '../parse-result';
import type { ByeClientMessage } from './bye-client-message';
import { parseHelloPayload } from './hello-client-message';
import type { HelloClientMessage } from './hello-client-message';
import { parseInternalPayload } from './internal-client-message';
import type { InternalClientMessage } from './internal-client-message';
import { parseMessagePayload } from './message-client-message';
import type { ControlClientMessage, MessageClientMessage } from './message-client-message';
import { parseRoomPayload } from './room-client-message';
import type { RoomClientMessage } from './room-client-message';
import { parseTransientPayload } from './transient-client-message';
import type { TransientClientMessage } from './transient-client-message';

/** Every client → server message the server processes. */
export type ClientMessage =
  | HelloClientMessage
  | ByeClientMessage
  | RoomClientMessage
  | MessageClientMessage
  | ControlClientMessage
  | InternalClientMessage
  | TransientClientMessage;

/** Client → server message types (fact sheet 1.2). */
export type ClientMessageType = ClientMessage['type'];

/**
 * A message the server ignores (logged): a non-empty `type` that is not one of the seven, or an
 * `internal` message whose `internal.type` is not one the server handles (upstream ignores those
 * too). Before a successful hello it is answered with `hello_expected` like any non-hello.
 */
export interface UnknownClientMessage {
  type: string;
  id?: string;
  unknown: true;
  /** For `type: "internal"`: the unknown sub-type. */
  subtype?: string;
}

/**
 * Parses one text frame from a client (fact sheet 1.2, 1.4–1.12): `JSON.parse` once, check the
 * envelope by hand, then validate only the payload chosen by `type`.
 *
 * Errors follow upstream: undecodable JSON, JSON nested deeper than `MAX_JSON_DEPTH`
 * (Go's decoder refuses deep input too), a non-object, or a JSON type mismatch (e.g. a
 * numeric `id` or `hello.version`) fail with `invalid_format` and no id; semantic failures
 * (missing `type`, missing payload, bad recipient, …) carry the request id. `hello` version
 * errors are `invalid_hello_version`. The developer-facing cause is in `error.reason`.
 *
 * Opaque parts (`message.data`, `control.data`, transient `value`, hello 1.0 `auth.params`,
 * `user` objects) are the very values from `JSON.parse`, never copied.
 */
export function parseClientMessage(text: string): ParseResult<ClientMessage | UnknownClientMessage> {
  const json = parseJsonLimited(text);
  if (!json.ok) return { ok: false, error: invalidFormat(json.reason) };
  return parseClientMessageObject(json.value);
}

/** {@link parseClientMessage} for an already decoded JSON value. */
export function parseClientMessageObject(raw: unknown): ParseResult<ClientMessage | UnknownClientMessage> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, error: invalidFormat('message: expected JSON object') };
  }
  const envelope = raw as Record<string, unknown>;
  const rawId = envelope['id'];
  const rawType = envelope['type'];
  if (rawId !== undefined && rawId !== null && typeof rawId !== 'string') {
    return { ok: false, error: invalidFormat('id: expected string') };
  }
  if (rawType !== undefined && rawType !== null && typeof rawType !== 'string') {
    return { ok: false, error: invalidFormat('type: expected string') };
  }
  // Upstream never echoes an empty id (`omitempty`).
  const id = rawId ? rawId : undefined;
  const withId = <T extends object>(message: T): T & { id?: string } =>
    id === undefined ? message : { id, ...message };
  const missing = (reason: string): ParseResult<never> =>
    id === undefined ? { ok: false, error: invalidFormat(reason) } : { ok: false, error: invalidFormat(reason), id };

  const type = rawType ? rawType : '';
  switch (type) {
    case '':
      return missing('type: required');
    case 'hello': {
      const payload = envelope['hello'];
      if (payload === undefined || payload === null) return missing('hello: required');
      const hello = parseHelloPayload(payload, id);
      return hello.ok ? { ok: true, value: withId({ type: 'hello', hello: hello.value }) } : hello;
    }
    case 'bye': {
      const payload = envelope['bye'];
      if (payload !== undefined && payload !== null && (typeof payload !== 'object' || Array.isArray(payload))) {
        return { ok: false, error: invalidFormat('bye: expected object') };
      }
      return { ok: true, value: withId({ type: 'bye' }) };
    }
    case 'room': {
      const payload = envelope['room'];
      if (payload === undefined || payload === null) return missing('room: required');
      const room = parseRoomPayload(payload, id);
      return room.ok ? { ok: true, value: withId({ type: 'room', room: room.value }) } : room;
    }
    case 'message': {
      const payload = envelope['message'];
      if (payload === undefined || payload === null) return missing('message: required');
      const message = parseMessagePayload(payload, 'message', id);
      return message.ok ? { ok: true, value: withId({ type: 'message', message: message.value }) } : message;
    }
    case 'control': {
      const payload = envelope['control'];
      if (payload === undefined || payload === null) return missing('control: required');
      const control = parseMessagePayload(payload, 'control', id);
      return control.ok ? { ok: true, value: withId({ type: 'control', control: control.value }) } : control;
    }
    case 'transient': {
      const payload = envelope['transient'];
      if (payload === undefined || payload === null) return missing('transient: required');
      const transient = parseTransientPayload(payload, id);
      return transient.ok ? { ok: true, value: withId({ type: 'transient', transient: transient.value }) } : transient;
    }
    case 'internal': {
      const payload = envelope['internal'];
      if (payload === undefined || payload === null) return missing('internal: required');
      const internal = parseInternalPayload(payload, id);
      if (!internal.ok) return internal;
      if ('unknown' in internal.value) {
        return { ok: true, value: withId({ type: 'internal', unknown: true, subtype: internal.value.type }) };
      }
      return { ok: true, value: withId({ type: 'internal', internal: internal.value.payload }) };
    }
    default:
      return { ok: true, value: withId({ type, unknown: true }) };
  }
}
