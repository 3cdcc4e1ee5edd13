import { InCallFlag } from '@talk-signaling/protocol';
import type { ClusterHandlers, InternalSessionInfo, ProxySessionStream, PublisherInfo, TransientEntry, VirtualSessionInfo } from '@talk-signaling/cluster';
import type { Logger } from '@talk-signaling/runtime';
import type { Backend } from '../backend/backend';
import type { BackendRegistry } from '../backend/backend-registry';
import type { Hub } from '../hub/hub';
import type { SessionRegistry } from '../hub/session-registry';
import type { RoomRegistry } from '../room/room-registry';
import type { RoomSessionIndex } from '../room/room-session-index';
import type { Room } from '../room/room';
import { RelaySocket } from './relay-socket';

export interface ClusterAnswersDeps {
  hub: Pick<Hub, 'closeSession' | 'accept'>;
  sessions: SessionRegistry;
  roomSessions: RoomSessionIndex;
  rooms: RoomRegistry;
  backends: BackendRegistry;
  log: Logger;
  /** `[mcu] type = proxy`: where this node's publishers live (GetPublisherId). */
  publishers?: { publisherInfo(publisherId: string, streamType: 'video' | 'screen', signal: AbortSignal): Promise<PublisherInfo | undefined> };
}

/** The only disconnect reason a peer may ask for (upstream sends nothing else). */
const RECONNECTED = 'room_session_reconnected';

/**
 * What this node answers to other signaling nodes over gRPC (upstream's `ServerHub` methods),
 * read from the local registries. Arguments come from peers and are treated as untrusted: unknown
 * ids and URLs are "not here".
 */
export class ClusterAnswers implements ClusterHandlers {
  readonly #deps: ClusterAnswersDeps;

  constructor(deps: ClusterAnswersDeps) {
    this.#deps = deps;
  }

  /**
   * Any live session a local resume would take (upstream: every session by its private id) — also
   * the session of another signaling server's federation client reconnecting to another node.
   */
  lookupResumeId(resumeId: string): string | undefined {
    const session = this.#deps.sessions.byPrivateId(resumeId);
    return session === undefined || session.closed ? undefined : session.publicId;
  }

  lookupSessionId(roomSessionId: string, disconnectReason: string): string | undefined {
    const session = this.#deps.roomSessions.find(roomSessionId);
    if (session === undefined || session.closed) return undefined;
    if (disconnectReason === RECONNECTED) {
      this.#deps.log.info({ sessionId: session.publicId }, 'closing session: same room session joined on another node');
      this.#deps.hub.closeSession(session, RECONNECTED);
    } else if (disconnectReason !== '') {
      this.#deps.log.warn({ reason: disconnectReason.slice(0, 100) }, 'peer asked for an unknown disconnect reason, not disconnecting');
    }
    return session.publicId;
  }

  isSessionInCall(sessionId: string, roomId: string, backendUrl: string): boolean | undefined {
    const session = this.#deps.sessions.byPublicId(sessionId);
    if (session === undefined) return undefined;
    const room = session.room;
    if (room === undefined || room.id !== roomId || !hasUrl(session.backend, backendUrl)) return false;
    return session.clientType === 'internal' || (session.inCall & InCallFlag.InCall) !== 0;
  }

  getInternalSessions(roomId: string, backendUrls: string[]): { internal: InternalSessionInfo[]; virtual: VirtualSessionInfo[] } | undefined {
    const rooms = this.#roomsFor(roomId, backendUrls);
    if (rooms === undefined) return undefined;
    const internal: InternalSessionInfo[] = [];
    const virtual: VirtualSessionInfo[] = [];
    for (const room of rooms) {
      for (const member of room.members()) {
        if (member.clientType === 'internal') internal.push({ sessionId: member.publicId, inCall: member.inCall, features: [...member.features] });
        else if (member.clientType === 'virtual') virtual.push({ sessionId: member.publicId, inCall: member.inCall });
      }
    }
    return { internal, virtual };
  }

  getSessionCount(url: string): number | undefined {
    const backend = this.#deps.backends.lookup(url);
    return backend === undefined ? undefined : this.#deps.sessions.clientCount(backend.id);
  }

  getTransientData(roomId: string, backendUrls: string[]): Record<string, TransientEntry> | undefined {
    const rooms = this.#roomsFor(roomId, backendUrls);
    if (rooms === undefined) return undefined;
    const entries: Record<string, TransientEntry> = {};
    for (const room of rooms) Object.assign(entries, room.transient.entries());
    return entries;
  }

  /**
   * A session's publisher on an MCU proxy, waited for until the caller's deadline (upstream).
   * Internal clients (the SIP bridge) publish too; virtual sessions never do.
   */
  async getPublisherId(sessionId: string, streamType: string, signal: AbortSignal): Promise<PublisherInfo | undefined> {
    const publishers = this.#deps.publishers;
    if (!publishers || (streamType !== 'video' && streamType !== 'screen')) return undefined;
    const session = this.#deps.sessions.byPublicId(sessionId);
    if (session === undefined || session.clientType === 'virtual') return undefined;
    return publishers.publisherInfo(sessionId, streamType, signal);
  }

  /**
   * A client connected to another node resumes a session living here: the relay is handed to the
   * hub like a socket (no welcome: the other node sent it), and the client's hello comes through it.
   */
  proxySession(stream: ProxySessionStream): void {
    const { sessionId, remoteAddr, userAgent, country } = stream.info;
    if (sessionId === '' || this.#deps.sessions.byPublicId(sessionId) === undefined) {
      stream.fail('not_found', 'no such session');
      return;
    }
    this.#deps.log.info({ sessionId, remoteAddr }, 'client relayed from another node');
    const socket = new RelaySocket(stream);
    this.#deps.hub.accept(socket, { ip: remoteAddr, userAgent, country: country === '' ? undefined : country }, { welcome: false });
  }

  /** The room on each distinct backend of `backendUrls` (`''` = compat); undefined if a backend or room is unknown (upstream). */
  #roomsFor(roomId: string, backendUrls: string[]): Room[] | undefined {
    const seen = new Set<string>();
    const rooms: Room[] = [];
    for (const url of backendUrls) {
      const backend = url === '' ? this.#deps.backends.compatBackend() : this.#deps.backends.lookup(url);
      if (backend === undefined) return undefined;
      if (seen.has(backend.id)) continue;
      seen.add(backend.id);
      const room = this.#deps.rooms.get(backend.id, roomId);
      if (room === undefined) return undefined;
      rooms.push(room);
    }
    return rooms;
  }
}

/** Upstream `Backend.HasUrl`: compat matches anything, else a configured base URL is a prefix. */
function hasUrl(backend: Backend, url: string): boolean {
  if (backend.compat) return true;
  const withSlash = url.endsWith('/') ? url : `${url}/`;
  return backend.urls.some((base) => withSlash.startsWith(base));
}
