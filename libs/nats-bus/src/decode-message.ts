import { jsonNestsDeeperThan } from '@talk-signaling/protocol';
import type { DropReason } from './metrics';

/** An incoming payload that passed the checks, or why it was dropped. */
export type Decoded = { ok: true; message: object } | { ok: false; reason: DropReason; detail: string };

/** What each `AsyncMessage` type must carry (fact sheet 6.1); other types pass as they are. */
const PAYLOAD_KINDS: Record<string, { key: string; array?: boolean }> = {
  message: { key: 'message' },
  room: { key: 'room' },
  permissions: { key: 'permissions', array: true },
  asyncroom: { key: 'asyncroom' },
  sendoffer: { key: 'sendoffer' },
};

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Checks one payload received from NATS — hostile until proven otherwise — and parses it. Never
 * throws. Only the envelope is checked (an object with a string `type`, and the payload its type
 * needs, e.g. `message.type` for `message`); what is inside belongs to the handlers.
 */
export function decodeAsyncMessage(text: string, limits: { maxMessageBytes: number; maxDepth: number }): Decoded {
  // A UTF-16 length over the byte limit can only mean more bytes; the byte check was done on receipt.
  if (text.length > limits.maxMessageBytes) return { ok: false, reason: 'oversize', detail: `${text.length} characters` };
  // Checked before JSON.parse (the one string-aware scanner of libs/protocol): V8 parses deep
  // input fine, but every later recursive walk (serialising to a socket, a handler's checks)
  // could overflow the stack.
  if (jsonNestsDeeperThan(text, limits.maxDepth)) return { ok: false, reason: 'too_deep', detail: `nested deeper than ${limits.maxDepth}` };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: 'malformed', detail: (err as Error).message };
  }
  if (!isObject(value)) return { ok: false, reason: 'invalid', detail: 'not a JSON object' };
  const type = value['type'];
  if (typeof type !== 'string') return { ok: false, reason: 'invalid', detail: 'no string "type"' };
  if (value['sendtime'] !== undefined && typeof value['sendtime'] !== 'string') {
    return { ok: false, reason: 'invalid', detail: '"sendtime" is not a string' };
  }
  const kind = Object.hasOwn(PAYLOAD_KINDS, type) ? PAYLOAD_KINDS[type] : undefined;
  if (kind) {
    const payload = value[kind.key];
    const good = kind.array ? Array.isArray(payload) : isObject(payload);
    if (!good) return { ok: false, reason: 'invalid', detail: `type "${type}" without ${kind.array ? 'an array' : 'an object'} "${kind.key}"` };
    if (type === 'message' && typeof (payload as Record<string, unknown>)['type'] !== 'string') {
      return { ok: false, reason: 'invalid', detail: 'server message without a string "type"' };
    }
  }
  return { ok: true, message: value };
}
