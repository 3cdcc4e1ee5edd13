import { Permission } from '@talk-signaling/protocol';
import type { ClientSession, Frame } from '../session/client-session';
import type { ServerMessageObject } from './async-message';

interface Variants {
  plain?: Buffer;
  /** For receivers with `hide-displaynames`, when the message carries display names. */
  hidden?: Buffer | null;
}

/**
 * Serialise once: a server message delivered to many sessions is encoded to a UTF-8 buffer once
 * (per variant), and that same buffer is written to every socket. Keyed by message identity, so
 * it only helps where the same object reaches many receivers — which is the fan-out case.
 */
export class FrameCache {
  readonly #cache = new WeakMap<ServerMessageObject, Variants>();

  /** The frame `session` should receive for `message`, or undefined when it must not get it. */
  frameFor(session: ClientSession, message: ServerMessageObject): Frame | undefined {
    let variants = this.#cache.get(message);
    if (!variants) {
      variants = {};
      this.#cache.set(message, variants);
    }
    if (session.permissions !== undefined && session.hasPermission(Permission.HideDisplayNames)) {
      if (variants.hidden === undefined) {
        const filtered = hideDisplayNames(message);
        variants.hidden = filtered === 'drop' ? null : Buffer.from(JSON.stringify(filtered ?? message));
      }
      return variants.hidden ?? undefined;
    }
    variants.plain ??= Buffer.from(JSON.stringify(message));
    return variants.plain;
  }
}

/**
 * Receiver-side filter of `hide-displaynames` (1.13): `displayname` removed from join entries'
 * `user`, `actorDisplayName` blanked in chat comments, `nickChanged` messages dropped.
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
  if (event['target'] === 'room' && event['type'] === 'message') {
    const msg = event['message'] as { roomid: string; data?: unknown };
    const data = msg.data as { type?: unknown; chat?: { comment?: Record<string, unknown> } } | undefined;
    const comment = data?.type === 'chat' ? data.chat?.comment : undefined;
    if (!comment || typeof comment !== 'object') return undefined;
    return {
      ...message,
      event: { ...event, message: { ...msg, data: { ...data, chat: { ...data!.chat, comment: { ...comment, actorDisplayName: '' } } } } },
    };
  }
  return undefined;
}
