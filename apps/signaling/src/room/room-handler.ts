import { SignalingError, signalingError, type RoomClientMessage } from '@talk-signaling/protocol';
import { askNextcloud } from '../backend/ask-nextcloud';
import { federatedActor } from '../session/federated-actor';
import type { BackendClient } from '../backend/backend-client';
import type { Room } from './room';
import type { RoomMembership } from './room-membership';
import type { RoomRegistry } from './room-registry';
import type { RoomSessionIndex } from './room-session-index';
import type { ClientSession, Frame } from '../session/client-session';
import { errorFrame, serverFrame } from '../delivery/server-frames';
import type { Router } from '../delivery/router';
import type { CloseReason, Hub, SessionListener } from '../hub/hub';

/** Anonymous sessions must be in a room this soon after hello or after leaving one (upstream). */
export const ANONYMOUS_JOIN_TIMEOUT_MS = 10_000;

/**
 * Room requests of one session waiting for their turn; more are answered `too_many_requests`
 * (each holds a Nextcloud request's worth of client data while it waits).
 */
export const MAX_QUEUED_ROOM_REQUESTS = 16;

/** How a participants update starts inside its frame (frames are ours, so the layout is fixed). */
const PARTICIPANTS_UPDATE = '"target":"participants","type":"update"';

/** What the room handler asks of federation (its `federation` dependency). */
export interface RoomFederationHook {
  /** Takes over federated joins and leaves of federated sessions; true when handled. */
  room(session: ClientSession, message: RoomClientMessage): boolean;
  /** The session is joining a local room: its federated room (if any) ends. */
  leave(session: ClientSession): void;
  /** Whether the session is (getting) in a federated room. */
  isFederated(session: ClientSession): boolean;
}

/** What the room handler asks other signaling nodes (`[grpc]`; the cluster node implements it). */
export interface RoomCluster {
  /** Whether there are other nodes to ask (no round trip otherwise). */
  readonly hasPeers: boolean;
  /** Closes the session with this Nextcloud room session id on another node; its public id if one had it. */
  disconnectRemoteRoomSession(roomSessionId: string): Promise<string | undefined>;
  /** The transient data the other nodes hold for a room, merged. */
  remoteTransientData(roomId: string, backendUrls: readonly string[]): Promise<Record<string, { value: unknown; expires?: number }>>;
}

export interface RoomHandlerDeps {
  hub: Hub;
  rooms: RoomRegistry;
  roomSessions: RoomSessionIndex;
  router: Router;
  membership: RoomMembership;
  backendClient: BackendClient;
  /** Federated rooms (section 9): joins with `federation` and leaves of federated sessions. */
  federation: RoomFederationHook;
  anonymousJoinTimeoutMs: number;
  /** Other signaling nodes (`[grpc]`): one Nextcloud room session per cluster. */
  cluster?: RoomCluster;
}

/**
 * `room` requests (1.6): validation with Nextcloud, joining, leaving, switching rooms, the
 * room session uniqueness rule, and the join deadline for anonymous sessions.
 */
export class RoomHandler implements SessionListener {
  readonly #deps: RoomHandlerDeps;
  readonly #joinTimers = new Map<ClientSession, NodeJS.Timeout>();
  /**
   * Room requests of a session run one after the other (upstream handles a client's messages
   * in order), so a second join sent before Nextcloud answered the first gets its answer after
   * the first one's. Only sessions with requests in flight have an entry.
   */
  readonly #queues = new Map<ClientSession, { tail: Promise<void>; length: number }>();

  constructor(deps: RoomHandlerDeps) {
    this.#deps = deps;
    deps.hub.addListener(this);
    deps.hub.handle('room', (session, message) => this.#enqueue(session, message as RoomClientMessage));
  }

  sessionCreated(session: ClientSession): void {
    this.#armJoinTimer(session);
  }

  /**
   * A resumed session that missed no participants update while away still gets the room's
   * last known participant list (upstream 1.4.6), so its call view is current.
   */
  sessionResumed(session: ClientSession, replayed: readonly Frame[]): void {
    const room = session.room as Room | undefined;
    if (!room || room.lastUsers.length === 0) return;
    if (replayed.some((frame) => frame.includes(PARTICIPANTS_UPDATE))) return;
    room.sendParticipantsUpdate([], room.lastUsers, (update) => this.#deps.router.toLocal(session, update));
  }

  sessionClosed(session: ClientSession, reason: CloseReason): void {
    this.#clearJoinTimer(session);
    this.#queues.delete(session);
    // A session kicked for reconnecting is replaced by its successor: Nextcloud must not see a leave.
    this.#deps.membership.leave(session, reason !== 'room_session_reconnected');
  }

  /** Runs `message` now when nothing is in flight for the session, else after the others. */
  #enqueue(session: ClientSession, message: RoomClientMessage): void {
    let queue = this.#queues.get(session);
    if (queue === undefined) {
      queue = { tail: Promise.resolve(), length: 0 };
      this.#queues.set(session, queue);
    }
    if (queue.length >= MAX_QUEUED_ROOM_REQUESTS) {
      this.#deps.router.send(session, errorFrame(message.id, signalingError('too_many_requests')));
      return;
    }
    const q = queue;
    const run = async (): Promise<void> => {
      try {
        await this.#onRoom(session, message);
      } catch (err) {
        // One failed request gets one error; the queue and the session go on.
        session.log.error({ err }, 'room request failed');
        if (!session.closed) this.#deps.router.send(session, errorFrame(message.id, signalingError('internal_error')));
      } finally {
        if (--q.length === 0 && this.#queues.get(session) === q) this.#queues.delete(session);
      }
    };
    q.tail = q.length++ === 0 ? run() : q.tail.then(run);
  }

  async #onRoom(session: ClientSession, message: RoomClientMessage): Promise<void> {
    if (session.closed) return;
    const { roomid, sessionid } = message.room;
    if (this.#deps.federation.room(session, message)) return;
    if (roomid === '') {
      if (!session.room) return;
      this.#deps.membership.leave(session, true);
      this.#deps.router.send(session, serverFrame(message.id, 'room', { roomid: '' }));
      this.#armJoinTimer(session);
      return;
    }
    const current = session.room as Room | undefined;
    if (current && current.id === roomid) {
      this.#deps.roomSessions.set(session, sessionid ?? session.publicId);
      const room: Record<string, unknown> = { roomid };
      if (current.properties !== undefined) room['properties'] = current.properties;
      this.#deps.router.send(session, errorFrame(message.id, signalingError('already_joined', { room })));
      return;
    }
    try {
      const answer = await this.#validate(session, roomid, sessionid);
      if (session.closed) return;
      await this.#disconnectRemote(session, sessionid);
      const initialTransient = await this.#remoteTransient(session, roomid);
      if (session.closed) return;
      this.#join(session, message.id, roomid, sessionid, answer, initialTransient);
    } catch (err) {
      if (session.closed) return;
      const error = err instanceof SignalingError ? err : new SignalingError('internal_error', (err as Error).message);
      this.#deps.router.send(session, errorFrame(message.id, error));
    }
  }

  /**
   * The same Nextcloud room session on another node is closed there (upstream
   * `disconnectByRoomSessionId`, 1 s); a local one is handled by {@link #join}.
   */
  async #disconnectRemote(session: ClientSession, sessionid: string | undefined): Promise<void> {
    const cluster = this.#deps.cluster;
    if (!sessionid || !cluster?.hasPeers) return;
    const local = this.#deps.roomSessions.get(session.backend.id, sessionid);
    if (local !== undefined && local !== session) return;
    const closed = await cluster.disconnectRemoteRoomSession(sessionid);
    if (closed !== undefined) session.log.info({ closed }, 'same room session on another node closed');
  }

  /** Asks Nextcloud whether the session may join (internal clients may join anything). */
  async #validate(
    session: ClientSession,
    roomid: string,
    sessionid: string | undefined,
  ): Promise<{ properties?: unknown; userId?: string; permissions?: string[] }> {
    if (session.clientType === 'internal') return {};
    const body = {
      type: 'room',
      room: { version: '1.0', roomid, userid: session.userId, sessionid: sessionid ?? session.publicId, ...federatedActor(session) },
    };
    const value = await askNextcloud(this.#deps.backendClient, session.backendUrl, session.backend, body, 'room', 'room_join_failed');
    return { properties: value.room.properties, userId: value.room.session?.userid, permissions: value.room.permissions };
  }

  #join(
    session: ClientSession,
    id: string | undefined,
    roomid: string,
    sessionid: string | undefined,
    answer: { properties?: unknown; userId?: string; permissions?: string[] },
    initialTransient?: Record<string, { value: unknown; expires?: number }>,
  ): void {
    const { roomSessions, rooms } = this.#deps;
    if (sessionid) {
      const other = roomSessions.get(session.backend.id, sessionid);
      if (other && other !== session) this.#deps.hub.closeSession(other, 'room_session_reconnected');
    }
    this.#deps.federation.leave(session);
    this.#deps.membership.leave(session, true);
    const room = rooms.getOrCreate(session.backend.id, roomid, answer.properties);
    if (sessionid) roomSessions.set(session, sessionid);
    this.#clearJoinTimer(session);
    session.roomUserId = answer.userId ?? '';
    if (answer.permissions !== undefined) session.permissions = new Set(answer.permissions);
    const reply: Record<string, unknown> = { roomid };
    if (room.properties !== undefined) reply['properties'] = room.properties;
    this.#deps.router.send(session, serverFrame(id, 'room', reply));
    // Before the joiner is added: it gets it in its `initial` message, right after the reply.
    if (initialTransient) room.addInitialTransient(initialTransient);
    room.addSession(session);
  }

  /**
   * A room this node does not host yet gets the transient data its other nodes hold (upstream
   * `fetchInitialTransientData`, 1 s) before the first member joins here; undefined otherwise.
   */
  async #remoteTransient(session: ClientSession, roomid: string): Promise<Record<string, { value: unknown; expires?: number }> | undefined> {
    const cluster = this.#deps.cluster;
    if (!cluster?.hasPeers || this.#deps.rooms.get(session.backend.id, roomid) !== undefined) return undefined;
    return cluster.remoteTransientData(roomid, session.backend.urls);
  }

  #armJoinTimer(session: ClientSession): void {
    if (session.clientType !== 'client' || session.userId !== '' || session.closed) return;
    this.#clearJoinTimer(session);
    const timer = setTimeout(() => {
      this.#joinTimers.delete(session);
      if (!session.room && !this.#deps.federation.isFederated(session)) this.#deps.hub.closeSession(session, 'room_join_timeout');
    }, this.#deps.anonymousJoinTimeoutMs);
    timer.unref();
    this.#joinTimers.set(session, timer);
  }

  #clearJoinTimer(session: ClientSession): void {
    clearTimeout(this.#joinTimers.get(session));
    this.#joinTimers.delete(session);
  }
}
