import { InCallFlag } from '@talk-signaling/protocol';
import { backendRoomSubject, sessionSubject, userSubject, roomSubject, type Bus, type BusSubscription } from '@talk-signaling/nats-bus';
import type { ClientSession, Frame } from '../session/client-session';
import {
  asyncMessage,
  asyncRoomEvent,
  asyncRoomRequest,
  asyncSendOffer,
  isSendOffer,
  isSessionJoined,
  isRoomRequest,
  isServerMessage,
  type AsyncRoomEvent,
  type AsyncRoomRequest,
  type AsyncServerMessage,
  type RoomRequest,
  type SendOffer,
  type ServerMessageObject,
} from './async-message';
import { FrameCache } from './frame-cache';

const CHAT_REFRESH_TYPE = 'chat';

/**
 * The only way from a feature to a session. Targets are addressed by bus subject: a session
 * is subscribed to its own subject (and its user's) on the node that holds it, a room to its
 * room and backend-room subjects on every node hosting it, so the same code serves one node
 * and a cluster. Features never touch the bus or a socket themselves.
 *
 * What comes from the bus is checked here once per message, before any handler sees it.
 */
export class Router {
  readonly #bus: Bus;
  readonly frames = new FrameCache();
  readonly #subscriptions = new Map<ClientSession, { subject: string; subs: BusSubscription[] }>();
  readonly #delivered: ((session: ClientSession, message: ServerMessageObject) => void)[] = [];
  #sendOffer: ((receiver: ClientSession, offer: SendOffer) => void) | undefined;
  /** Messages published to several sessions' own subjects (see toLocalSessions): their frame is cached. */
  readonly #shared = new WeakSet<AsyncServerMessage>();

  constructor(bus: Bus) {
    this.#bus = bus;
  }

  /** Called after a message was handed to a session (e.g. to close it after a disinvite). */
  onDelivered(listener: (session: ClientSession, message: ServerMessageObject) => void): void {
    this.#delivered.push(listener);
  }

  /**
   * The MCU (when configured) creates the subscribers other nodes' publishers ask for with
   * `sendoffer`; without it such requests are dropped.
   */
  onSendOffer(handler: (receiver: ClientSession, offer: SendOffer) => void): void {
    this.#sendOffer = handler;
  }

  /** Subscribes a new session to its own subject and, when it has one, its user's. */
  attachSession(session: ClientSession): void {
    // A session's own subject has one receiver: its frame is encoded for it alone, uncached.
    const subject = sessionSubject(session.publicId);
    const subs = [
      this.#bus.subscribe(subject, (m) => {
        if (isServerMessage(m)) this.deliver(session, m, !this.#shared.has(m));
        else if (isSendOffer(m) && !session.closed) this.#sendOffer?.(session, m.sendoffer);
      }),
    ];
    if (session.userId) {
      subs.push(
        this.#bus.subscribe(userSubject(session.userId, session.backend.id), (m) => {
          if (isServerMessage(m)) this.deliver(session, m);
        }),
      );
    }
    this.#subscriptions.set(session, { subject, subs });
  }

  detachSession(session: ClientSession): void {
    for (const sub of this.#subscriptions.get(session)?.subs ?? []) sub.unsubscribe();
    this.#subscriptions.delete(session);
  }

  /**
   * A session of this node that is not a client of its own (a virtual session): `handler`
   * gets what other nodes address to it.
   */
  subscribeSession(publicId: string, handler: (message: AsyncServerMessage) => void): BusSubscription {
    return this.#bus.subscribe(sessionSubject(publicId), (m) => {
      if (isServerMessage(m)) handler(m);
    });
  }

  /** A room hosted on this node: `handler` fans out what is published to the room. */
  subscribeRoom(roomId: string, backendId: string, handler: (message: AsyncServerMessage) => void): BusSubscription {
    return this.#bus.subscribe(roomSubject(roomId, backendId), (m) => {
      if (isServerMessage(m)) handler(m);
    });
  }

  /** A room hosted on this node: `handler` applies Nextcloud's requests for it (fact sheet 6.1). */
  subscribeBackendRoom(roomId: string, backendId: string, handler: (message: AsyncRoomRequest) => void): BusSubscription {
    return this.#bus.subscribe(backendRoomSubject(roomId, backendId), (m) => {
      if (isRoomRequest(m)) handler(m);
    });
  }

  /**
   * A room hosted on this node: `handler` hears what the room's nodes tell each other on its
   * backend subject — sessions joining on any node and transient data changes (this node's own
   * included; the object it published comes back as is).
   */
  subscribeRoomNodes(roomId: string, backendId: string, handler: (message: AsyncRoomEvent | AsyncRoomRequest) => void): BusSubscription {
    return this.#bus.subscribe(backendRoomSubject(roomId, backendId), (m) => {
      if (isSessionJoined(m) || isRoomRequest(m)) handler(m);
    });
  }

  /** Tells every node hosting the room that `sessionid` joined it (they answer with their members). */
  toRoomNodes(roomId: string, backendId: string, event: AsyncRoomEvent['asyncroom']): void {
    this.#bus.publish(backendRoomSubject(roomId, backendId), asyncRoomEvent(event));
  }

  toSession(publicId: string, message: ServerMessageObject): void {
    this.#bus.publish(sessionSubject(publicId), asyncMessage(message));
  }

  /** Asks the node holding `publicId` to subscribe it to a publisher of the sender's (`sendoffer`). */
  sendOfferTo(publicId: string, offer: SendOffer): void {
    this.#bus.publish(sessionSubject(publicId), asyncSendOffer(offer));
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

  /**
   * One message for several sessions of this node, each on its own subject (so it stays in
   * order with what else each receives): one bus message object for all, so its frame is
   * encoded once and the same bytes go to every socket (a room's member list for the sessions
   * that joined together).
   */
  toLocalSessions(sessions: readonly ClientSession[], message: ServerMessageObject): void {
    const async = asyncMessage(message);
    if (sessions.length > 1) this.#shared.add(async);
    for (const session of sessions) this.#bus.publish(this.#subscriptions.get(session)?.subject ?? sessionSubject(session.publicId), async);
  }

  toUser(userId: string, backendId: string, message: ServerMessageObject): void {
    this.#bus.publish(userSubject(userId, backendId), asyncMessage(message));
  }

  toRoom(roomId: string, backendId: string, message: ServerMessageObject): void {
    this.#bus.publish(roomSubject(roomId, backendId), asyncMessage(message));
  }

  /** A backend room request, for every node that hosts the room (this one included). */
  toBackendRoom(roomId: string, backendId: string, request: RoomRequest, sendtime?: string): void {
    this.#bus.publish(backendRoomSubject(roomId, backendId), asyncRoomRequest(request, sendtime));
  }

  /**
   * The answer to a request of a session on this node (a frame from `server-frames`), in
   * order with everything else that session receives; not through the bus.
   */
  send(session: ClientSession, frame: Frame): void {
    session.send(frame);
  }

  /** One message for one session of this node, serialised for it alone; not through the bus. */
  toLocal(session: ClientSession, message: ServerMessageObject): void {
    this.deliver(session, asyncMessage(message), true);
  }

  /**
   * Hands one bus message to one local session: drops the sender's own `message`/`control`
   * echo, applies the receiver's display-name filter, and writes the shared frame.
   * `single`: nobody else receives `message` (the session's own subject), so its frame is not
   * cached for other receivers.
   */
  deliver(session: ClientSession, async: AsyncServerMessage, single = false): void {
    if (session.closed) return;
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

/**
 * Talk's "refresh your chat" notification; only one is kept for a detached session (fact sheet
 * 1.4.6). Upstream recognises it in client `message`s (data `{"type":"chat","chat":{"refresh":
 * true}}`); the same data in a room `message` event from Nextcloud is treated alike.
 */
function isChatRefresh(message: ServerMessageObject): boolean {
  type ChatData = { type?: string; chat?: { refresh?: boolean } };
  let data: ChatData | undefined;
  if (message.type === 'message') data = (message['message'] as { data?: ChatData } | undefined)?.data;
  else if (message.type === 'event') {
    const event = message['event'] as { type?: string; message?: { data?: ChatData } };
    if (event.type === 'message') data = event.message?.data;
  }
  return typeof data === 'object' && data !== null && data.type === CHAT_REFRESH_TYPE && data.chat?.refresh === true;
}
