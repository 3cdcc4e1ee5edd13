import { ClientFeature, Permission } from '@talk-signaling/protocol';
import type { ClientSession, Frame } from '../session/client-session';
import type { ServerMessageObject } from './async-message';

/** What a receiver gets: one frame, several (split chat comments), or nothing. */
export type Frames = Frame | Frame[];

/** Receiver traits that change the bytes of a message. */
const HIDDEN = 1; // holds `hide-displaynames`
const RELAY = 2; // announced client feature `chat-relay` (only matters for chat comments)

/**
 * Serialise once: a server message delivered to many sessions is encoded to UTF-8 buffers once
 * per receiver variant, and the same buffers are written to every socket of that variant.
 * Keyed by message identity, so it only helps where one object reaches many receivers — which
 * is the fan-out case.
 */
export class FrameCache {
  readonly #cache = new WeakMap<ServerMessageObject, (Frames | null | undefined)[]>();

  /** The frame(s) `session` should receive for `message`, or undefined when it must not get it. */
  framesFor(session: ClientSession, message: ServerMessageObject, single = false): Frames | undefined {
    let variant = 0;
    if (session.permissions !== undefined && session.hasPermission(Permission.HideDisplayNames)) variant |= HIDDEN;
    const chat = chatOf(message);
    if (chat && session.features.has(ClientFeature.ChatRelay)) variant |= RELAY;
    if (single) {
      // One receiver: skip the cache entry (a WeakMap entry and an array per message) and leave
      // the JSON a string, which the connection encodes straight into its frame buffer.
      return encodeString(forReceiver(message, chat, (variant & HIDDEN) !== 0, (variant & RELAY) !== 0)) ?? undefined;
    }
    let variants = this.#cache.get(message);
    if (!variants) {
      variants = [];
      this.#cache.set(message, variants);
    }
    let frames = variants[variant];
    if (frames === undefined) {
      frames = encode(forReceiver(message, chat, (variant & HIDDEN) !== 0, (variant & RELAY) !== 0));
      variants[variant] = frames;
    }
    return frames ?? undefined;
  }
}

function encode(messages: ServerMessageObject[] | 'drop'): Frames | null {
  if (messages === 'drop') return null;
  if (messages.length === 1) return Buffer.from(JSON.stringify(messages[0]));
  return messages.map((m) => Buffer.from(JSON.stringify(m)));
}

function encodeString(messages: ServerMessageObject[] | 'drop'): Frames | null {
  if (messages === 'drop') return null;
  if (messages.length === 1) return JSON.stringify(messages[0]);
  return messages.map((m) => JSON.stringify(m));
}

/** The messages one kind of receiver gets for `message`. */
function forReceiver(message: ServerMessageObject, chat: ChatEvent | undefined, hidden: boolean, relay: boolean): ServerMessageObject[] | 'drop' {
  if (chat) return chatForReceiver(chat, hidden, relay);
  if (!hidden) return [message];
  const filtered = hideDisplayNames(message);
  return filtered === 'drop' ? 'drop' : [filtered ?? message];
}

interface ChatEvent {
  roomid: string;
  type: string;
  refresh: boolean;
  comments: Record<string, unknown>[];
}

/** A room `message` event whose data is a chat notification carrying comment objects. */
function chatOf(message: ServerMessageObject): ChatEvent | undefined {
  if (message.type !== 'event') return undefined;
  const event = message['event'] as { target?: string; type?: string; message?: { roomid: string; data?: unknown } };
  if (event.target !== 'room' || event.type !== 'message') return undefined;
  const data = event.message?.data as { type?: unknown; chat?: { refresh?: unknown; comment?: unknown; comments?: unknown } } | undefined;
  if (!data || typeof data !== 'object' || data.type !== 'chat' || !data.chat || typeof data.chat !== 'object') return undefined;
  const comments: Record<string, unknown>[] = [];
  const add = (c: unknown) => {
    if (c && typeof c === 'object' && !Array.isArray(c)) comments.push(c as Record<string, unknown>);
  };
  add(data.chat.comment);
  if (Array.isArray(data.chat.comments)) data.chat.comments.forEach(add);
  if (comments.length === 0) return undefined;
  return { roomid: event.message!.roomid, type: data.type, refresh: data.chat.refresh === true, comments };
}

/**
 * Chat relay (feature `chat-relay`, upstream 2.1): when Nextcloud sends the comments themselves
 * along with `refresh`, clients that announced `chat-relay` get each comment as its own event
 * (without `refresh`), the others only `refresh`. Comments sent without `refresh` go to everyone,
 * one event each. `hide-displaynames` receivers get `actorDisplayName` blanked.
 */
function chatForReceiver(chat: ChatEvent, hidden: boolean, relay: boolean): ServerMessageObject[] {
  const event = (data: unknown): ServerMessageObject => ({
    type: 'event',
    event: { target: 'room', type: 'message', message: { roomid: chat.roomid, data } },
  });
  if (chat.refresh && !relay) return [event({ type: chat.type, chat: { refresh: true } })];
  return chat.comments.map((comment) => {
    const shown = hidden && typeof comment['actorDisplayName'] === 'string' && comment['actorDisplayName'] !== '' ? { ...comment, actorDisplayName: '' } : comment;
    return event({ type: chat.type, chat: { comment: shown } });
  });
}

/**
 * Receiver-side filter of `hide-displaynames` (1.13) for everything but chat comments:
 * `displayname` removed from join entries' `user`, `nickChanged` messages dropped.
 * Returns undefined when nothing needs changing.
 */
export function hideDisplayNames(message: ServerMessageObject): ServerMessageObject | 'drop' | undefined {
  if (message.type === 'message') {
    const data = (message['message'] as { data?: { type?: unknown } } | undefined)?.data;
    if (data && typeof data === 'object' && data.type === 'nickChanged') return 'drop';
    return undefined;
  }
  if (message.type !== 'event') return undefined;
  const event = message['event'] as Record<string, unknown>;
  if (event['target'] === 'room' && event['type'] === 'join' && Array.isArray(event['join'])) {
    const join = (event['join'] as Record<string, unknown>[]).map((entry) => {
      const user = entry['user'];
      if (!user || typeof user !== 'object' || !('displayname' in user)) return entry;
      const { displayname: _drop, ...rest } = user as Record<string, unknown>;
      const copy = { ...entry };
      if (Object.keys(rest).length > 0) copy['user'] = rest;
      else delete copy['user'];
      return copy;
    });
    return { ...message, event: { ...event, join } };
  }
  return undefined;
}
