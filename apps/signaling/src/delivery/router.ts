import { InCallFlag } from '@talk-signaling/protocol';
import { sessionSubject, userSubject, roomSubject, type Bus, type BusSubscription } from '@talk-signaling/nats-bus';
import type { ClientSession } from '../session/client-session';
import { asyncMessage, type AsyncServerMessage, type ServerMessageObject } from './async-message';
import { FrameCache } from './frame-cache';

const CHAT_REFRESH_TYPE = 'chat';

/**
 * Every delivery goes through here: to one session, to all sessions of a user, or to a room.
 * Targets are addressed by bus subject only; a session is subscribed to its own subject (and
 * its user's) on the node that holds it, so the same code serves one node and a cluster.
 */
export class Router {
  readonly #bus: Bus;
  readonly frames = new FrameCache();
  readonly #subscriptions = new Map<ClientSession, { subject: string; subs: BusSubscription[] }>();
  readonly #delivered: ((session: ClientSession, message: ServerMessageObject) => void)[] = [];

  constructor(bus: Bus) {
    this.#bus = bus;
  }

  get bus(): Bus {
    return this.#bus;
  }

  /** Called after a message was handed to a session (e.g. to close it after a disinvite). */
  onDelivered(listener: (session: ClientSession, message: ServerMessageObject) => void): void {
    this.#delivered.push(listener);
  }

  /** Subscribes a new session to its own subject and, when it has one, its user's. */
  attachSession(session: ClientSession): void {
    // A session's own subject has one receiver: its frame is encoded for it alone, uncached.
    const subject = sessionSubject(session.publicId);
    const subs = [this.#bus.subscribe(subject, (m) => this.deliver(session, m as AsyncServerMessage, true))];
    if (session.userId) {
      subs.push(this.#bus.subscribe(userSubject(session.userId, session.backend.id), (m) => this.deliver(session, m as AsyncServerMessage)));
    }
    this.#subscriptions.set(session, { subject, subs });
  }

  detachSession(session: ClientSession): void {
    for (const sub of this.#subscriptions.get(session)?.subs ?? []) sub.unsubscribe();
    this.#subscriptions.delete(session);
  }

  toSession(publicId: string, message: ServerMessageObject): void {
    this.#bus.publish(sessionSubject(publicId), asyncMessage(message));
  }

  /**
   * {@link toSession} for a session of this node: reuses the subject string it was subscribed
   * with. Encoding a subject costs a Buffer and a base64 string per message, and a fresh string
   * must be hashed again by the bus' subject map; the subscribed one has its hash cached.
   */
  toLocalSession(session: ClientSession, message: ServerMessageObject): void {
    const subject = this.#subscriptions.get(session)?.subject ?? sessionSubject(session.publicId);
    this.#bus.publish(subject, asyncMessage(message));
  }

  toUser(userId: string, backendId: string, message: ServerMessageObject): void {
    this.#bus.publish(userSubject(userId, backendId), asyncMessage(message));
  }

  toRoom(roomId: string, backendId: string, message: ServerMessageObject): void {
    this.#bus.publish(roomSubject(roomId, backendId), asyncMessage(message));
  }

  /**
   * Hands one bus message to one local session: drops the sender's own `message`/`control`
   * echo, applies the receiver's display-name filter, and writes the shared frame.
   * `single`: nobody else receives `message` (the session's own subject), so its frame is not
   * cached for other receivers.
   */
  deliver(session: ClientSession, async: AsyncServerMessage, single = false): void {
    if (async.type !== 'message' || session.closed) return;
    const message = async.message;
    if (message.type === 'message' || message.type === 'control') {
      const sender = (message[message.type] as { sender?: { sessionid?: string; type?: string } } | undefined)?.sender;
      if (sender?.sessionid === session.publicId) return;
      if (sender?.type === 'call' && !(session.inCall & InCallFlag.InCall)) return;
    }
    const frames = this.frames.framesFor(session, message, single);
    if (frames === undefined) return;
    if (Array.isArray(frames)) for (const frame of frames) session.send(frame);
    else session.send(frames, isChatRefresh(message));
    for (const listener of this.#delivered) listener(session, message);
  }
}

/** Talk's "refresh your chat" room message; only one is kept for a detached session. */
function isChatRefresh(message: ServerMessageObject): boolean {
  if (message.type !== 'event') return false;
  const event = message['event'] as { type?: string; message?: { data?: { type?: string; chat?: { refresh?: boolean } } } };
  const data = event.type === 'message' ? event.message?.data : undefined;
  return data?.type === CHAT_REFRESH_TYPE && data.chat?.refresh === true && Object.keys(data.chat).length === 1;
}
