import { invalidFormat } from '../errors';
import { isJsonObject } from '../optional-field';
import type { ParseResult } from '../parse-result';
import { checkRecipient } from './recipient';
import type { MessageRecipient } from './recipient';

/** Payload of `message` and `control`. */
export interface MessageClientPayload {
  recipient: MessageRecipient;
  /** Opaque client data (present, not null), forwarded as the very value received. */
  data: unknown;
}

/** `{"type":"message","message":{recipient,data}}`. */
export interface MessageClientMessage {
  id?: string;
  type: 'message';
  message: MessageClientPayload;
}

/** `{"type":"control","control":{recipient,data}}` — same shape as `message`. */
export interface ControlClientMessage {
  id?: string;
  type: 'control';
  control: MessageClientPayload;
}

/** Reads an optional string field the way the Go decoder does (null = absent); `false` = mistyped. */
function optionalString(value: unknown): string | undefined | false {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : false;
}

/**
 * Validates a `message` or `control` payload (fact sheet 1.8/1.10). `key` is the payload key,
 * used in the failure reason. `data` is checked for presence only, never copied.
 *
 * Hand-written rather than zod: this runs for every chat/signalling frame.
 */
export function parseMessagePayload(
  raw: unknown,
  key: 'message' | 'control',
  id?: string,
): ParseResult<MessageClientPayload> {
  // JSON type mismatches are undecodable upstream: no id.
  if (!isJsonObject(raw)) return { ok: false, error: invalidFormat(`${key}: expected object`) };
  const rawRecipient = raw['recipient'];
  let recipientShape: { type?: string; sessionid?: string; userid?: string } = {};
  if (rawRecipient !== undefined && rawRecipient !== null) {
    if (!isJsonObject(rawRecipient)) return { ok: false, error: invalidFormat(`${key}.recipient: expected object`) };
    const type = optionalString(rawRecipient['type']);
    const sessionid = optionalString(rawRecipient['sessionid']);
    const userid = optionalString(rawRecipient['userid']);
    if (type === false) return { ok: false, error: invalidFormat(`${key}.recipient.type: expected string`) };
    if (sessionid === false) return { ok: false, error: invalidFormat(`${key}.recipient.sessionid: expected string`) };
    if (userid === false) return { ok: false, error: invalidFormat(`${key}.recipient.userid: expected string`) };
    recipientShape = { type, sessionid, userid };
  }
  const fail = (reason: string): ParseResult<MessageClientPayload> => {
    const error = invalidFormat(reason);
    return id === undefined ? { ok: false, error } : { ok: false, error, id };
  };
  const data = raw['data'];
  if (data === undefined || data === null) return fail(`${key}.data: required`);
  const checked = checkRecipient(recipientShape, key);
  if ('reason' in checked) return fail(checked.reason);
  return { ok: true, value: { recipient: checked.recipient, data } };
}
