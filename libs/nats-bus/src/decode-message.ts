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

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Whether `text`'s `{`/`[` nesting stays within `maxDepth` (characters inside strings do not
 * count). Checked before `JSON.parse`: V8 parses deep input fine, but every later recursive walk
 * (serialising to a socket, a handler's checks) could overflow the stack.
 */
export function withinDepth(text: string, maxDepth: number): boolean {
  if (text.length <= maxDepth) return true; // too short to nest deeper
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > maxDepth) return false;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return true;
}

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
  if (!withinDepth(text, limits.maxDepth)) return { ok: false, reason: 'too_deep', detail: `nested deeper than ${limits.maxDepth}` };
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
