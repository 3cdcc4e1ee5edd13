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
  readonly #subscriptions = new Map<ClientSession, BusSubscription[]>();
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
    const subs = [this.#bus.subscribe(sessionSubject(session.publicId), (m) => this.deliver(session, m as AsyncServerMessage))];
    if (session.userId) {
      subs.push(this.#bus.subscribe(userSubject(session.userId, session.backend.id), (m) => this.deliver(session, m as AsyncServerMessage)));
    }
    this.#subscriptions.set(session, subs);
  }

  detachSession(session: ClientSession): void {
    for (const sub of this.#subscriptions.get(session) ?? []) sub.unsubscribe();
    this.#subscriptions.delete(session);
  }

  toSession(publicId: string, message: ServerMessageObject): void {
    this.#bus.publish(sessionSubject(publicId), asyncMessage(message));
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
   */
  deliver(session: ClientSession, async: AsyncServerMessage): void {
    if (async.type !== 'message' || session.closed) return;
    const message = async.message;
    if (message.type === 'message' || message.type === 'control') {
      const sender = (message[message.type] as { sender?: { sessionid?: string; type?: string } } | undefined)?.sender;
      if (sender?.sessionid === session.publicId) return;
      if (sender?.type === 'call' && !(session.inCall & InCallFlag.InCall)) return;
    }
    const frames = this.frames.framesFor(session, message);
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
