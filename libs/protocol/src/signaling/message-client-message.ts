import { z } from 'zod';
import { invalidFormat } from '../errors';
import { parseWithSchema } from '../parse-with-schema';
import type { ParseResult } from '../parse-result';
import { checkRecipient, RecipientShape } from './recipient';
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

const MessageClientPayloadShape = z.object({
  recipient: z.unknown().optional(),
  data: z.unknown().optional(),
});

/**
 * Validates a `message` or `control` payload (fact sheet 1.8/1.10). `key` is the payload key,
 * used in the failure reason. `data` is checked for presence only, never copied.
 */
export function parseMessagePayload(
  raw: unknown,
  key: 'message' | 'control',
  id?: string,
): ParseResult<MessageClientPayload> {
  const shape = parseWithSchema(MessageClientPayloadShape, raw, key);
  if (!shape.ok) return shape;
  const recipientShape = parseWithSchema(
    RecipientShape,
    shape.value.recipient === undefined || shape.value.recipient === null ? {} : shape.value.recipient,
    `${key}.recipient`,
  );
  if (!recipientShape.ok) return recipientShape;
  const fail = (reason: string): ParseResult<MessageClientPayload> => {
    const error = invalidFormat(reason);
    return id === undefined ? { ok: false, error } : { ok: false, error, id };
  };
  const data = shape.value.data;
  if (data === undefined || data === null) return fail(`${key}.data: required`);
  const checked = checkRecipient(recipientShape.value, key);
  if ('reason' in checked) return fail(checked.reason);
  return { ok: true, value: { recipient: checked.recipient, data } };
}
