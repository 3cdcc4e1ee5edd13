import type { BackendRoomRequest } from '@talk-signaling/protocol';
import type { Logger } from '@talk-signaling/runtime';
import type { Backend } from '../backend/backend';
import type { BackendApiResult } from '../http/backend-api';
import type { ParticipantEntry } from '../room/room';
import type { RoomSessionIndex } from '../room/room-session-index';
import type { RoomRequest, ServerMessageObject } from '../delivery/async-message';
import type { Hub } from '../hub/hub';
import type { Router } from '../delivery/router';

/** Starts a phone call through an internal client (2.3.10); the dialout registry does. */
export interface DialoutStarter {
  start(
    backend: Backend,
    roomId: string,
    request: Extract<BackendRoomRequest, { type: 'dialout' }>['dialout'],
    backendHeader: string | undefined,
  ): Promise<BackendApiResult>;
}

/** The other nodes of a cluster, asked for a Nextcloud room session id this node doesn't know (gRPC `LookupSessionId`). */
export interface RemoteRoomSessions {
  /** The signaling session id of the session with that room session id on another node; undefined when none answers in time. */
  lookupRoomSession(roomSessionId: string, signal: AbortSignal): Promise<string | undefined>;
}

export interface BackendRoomHandlerDeps {
  hub: Hub;
  roomSessions: RoomSessionIndex;
  router: Router;
  dialouts: DialoutStarter;
  /** Only in a cluster. */
  remoteSessions?: RemoteRoomSessions;
  log: Logger;
}

const OK: BackendApiResult = { status: 200, body: {} };

/** Upstream's deadline for translating the session ids of one request (1 s, all lookups together). */
const LOOKUP_DEADLINE_MS = 1_000;

/** A Nextcloud session id translated: the signaling id, and the user id when the session is on this node. */
interface MappedSession {
  publicId: string;
  userId?: string;
}

/** Translates the Nextcloud session ids of one request (each looked up once, under one deadline). */
type SessionMapper = (ncSessionId: unknown) => Promise<MappedSession | undefined>;

/**
 * Nextcloud's `POST /api/v1/room/{id}` on the node that received it (fact sheet 2.3, 6.1):
 * roomlist events go to the users' subjects, a disinvite to the sessions named; what concerns
 * the room itself (update, delete, incall, participants, message, switchto) is published on the
 * room's backend subject with Nextcloud session ids translated, and every node hosting the room
 * acts on it (`RoomRequests`), this one included. Dialout is started from here.
 */
export class BackendRoomHandler {
  readonly #deps: BackendRoomHandlerDeps;

  constructor(deps: BackendRoomHandlerDeps) {
    this.#deps = deps;
    // A session that receives the disinvite of its current room is closed right after it.
    deps.router.onDelivered((session, message) => {
      if (message.type !== 'event') return;
      const event = message['event'] as { target?: string; type?: string; disinvite?: { roomid?: string } };
      if (event.target !== 'roomlist' || event.type !== 'disinvite') return;
      const room = session.room;
      if (room && room.id === event.disinvite?.roomid && room.backendId === session.backend.id) {
        queueMicrotask(() => deps.hub.closeSession(session, 'disinvited'));
      }
    });
  }

  process = async (backend: Backend, roomId: string, request: BackendRoomRequest, backendHeader: string | undefined): Promise<BackendApiResult> => {
    // Stamped on arrival (upstream): lookups on other nodes must not reorder two requests.
    const received = Date.now() * 1_000_000;
    const map = this.#mapper(backend);
    const toRoom = (message: RoomRequest): void => this.#toRoom(backend, roomId, message, received);
    switch (request.type) {
      case 'invite': {
        const { userids = [], alluserids = [], properties } = request.invite;
        this.#roomlist(backend, userids, { type: 'invite', invite: withProperties({ roomid: roomId }, properties) });
        this.#roomlist(backend, without(alluserids, userids), { type: 'update', update: withProperties({ roomid: roomId }, properties) });
        return OK;
      }
      case 'disinvite': {
        const { userids = [], sessionids = [], alluserids = [], properties } = request.disinvite;
        const event = { type: 'disinvite', disinvite: { roomid: roomId, reason: 'disinvited' } };
        this.#roomlist(backend, userids, event);
        for (const session of await mapAll(map, sessionids)) {
          this.#deps.router.toSession(session.publicId, { type: 'event', event: { target: 'roomlist', ...event } });
        }
        this.#roomlist(backend, without(alluserids, userids), { type: 'update', update: withProperties({ roomid: roomId }, properties) });
        return OK;
      }
      case 'update':
        toRoom({ type: 'update', update: request.update });
        this.#roomlist(backend, request.update.userids ?? [], { type: 'update', update: withProperties({ roomid: roomId }, request.update.properties) });
        return OK;
      case 'delete':
        toRoom({ type: 'delete', delete: request.delete });
        this.#roomlist(backend, request.delete.userids ?? [], { type: 'disinvite', disinvite: { roomid: roomId, reason: 'deleted' } });
        return OK;
      case 'participants': {
        const [changed, users] = await Promise.all([mapEntries(map, request.participants.changed ?? []), mapEntries(map, request.participants.users ?? [])]);
        if (changed.length > 0 || users.length > 0) toRoom({ type: 'participants', participants: { changed, users } });
        return OK;
      }
      case 'incall': {
        if (request.incall.all) {
          toRoom({ type: 'incall', incall: request.incall });
          return OK;
        }
        const [changed, users] = await Promise.all([mapEntries(map, request.incall.changed ?? []), mapEntries(map, request.incall.users ?? [])]);
        if (changed.length > 0 || users.length > 0) toRoom({ type: 'incall', incall: { ...request.incall, changed, users } });
        return OK;
      }
      case 'message':
        toRoom({ type: 'message', message: request.message });
        return OK;
      case 'switchto': {
        const { roomid: target, sessions } = request.switchto;
        const switchto = await mapSwitchTo(map, target, sessions);
        if (switchto) toRoom({ type: 'switchto', switchto });
        return OK;
      }
      case 'dialout':
        return this.#deps.dialouts.start(backend, roomId, request.dialout, backendHeader);
      case 'transient':
        return { status: 400, body: {} };
    }
  };

  /** Publishes a request for every node hosting the room, stamped with its arrival time (ns). */
  #toRoom(backend: Backend, roomId: string, request: RoomRequest, received: number): void {
    request.received = received;
    this.#deps.router.toBackendRoom(roomId, backend.id, request);
  }

  #roomlist(backend: Backend, userIds: readonly string[], event: Record<string, unknown>): void {
    if (userIds.length === 0) return;
    // One object for every user: each node encodes it once for all receivers.
    const message: ServerMessageObject = { type: 'event', event: { target: 'roomlist', ...event } };
    for (const userId of new Set(userIds)) this.#deps.router.toUser(userId, backend.id, message);
  }

  /**
   * Nextcloud session id → session: this node's table first, then the other nodes (upstream
   * `LookupSessionId` with no disconnect reason), each id once per request, all within
   * {@link LOOKUP_DEADLINE_MS}. `"0"` (not in the meeting) and non-strings are nobody.
   */
  #mapper(backend: Backend): SessionMapper {
    const { roomSessions, remoteSessions } = this.#deps;
    const cache = new Map<string, Promise<MappedSession | undefined>>();
    let deadline: AbortSignal | undefined;
    return (ncSessionId) => {
      if (typeof ncSessionId !== 'string' || ncSessionId === '' || ncSessionId === '0') return Promise.resolve(undefined);
      let mapped = cache.get(ncSessionId);
      if (mapped === undefined) {
        const local = roomSessions.get(backend.id, ncSessionId);
        if (local) mapped = Promise.resolve({ publicId: local.publicId, ...(local.roomUserId ? { userId: local.roomUserId } : {}) });
        else if (remoteSessions === undefined) mapped = Promise.resolve(undefined);
        else {
          deadline ??= AbortSignal.timeout(LOOKUP_DEADLINE_MS);
          mapped = remoteSessions.lookupRoomSession(ncSessionId, deadline).then(
            (publicId) => (publicId === undefined ? undefined : { publicId }),
            (err: unknown) => {
              this.#deps.log.warn({ err }, 'could not look up a room session on the other nodes');
              return undefined;
            },
          );
        }
        cache.set(ncSessionId, mapped);
      }
      return mapped;
    };
  }
}

/**
 * Nextcloud entries with signaling session ids (unknown sessions dropped, order kept);
 * `permissions` stay for the hosting nodes to apply and are removed before anybody sees the entry.
 */
async function mapEntries(map: SessionMapper, entries: readonly Record<string, unknown>[]): Promise<ParticipantEntry[]> {
  const sessions = await Promise.all(entries.map((entry) => map(entry['sessionId'])));
  const mapped: ParticipantEntry[] = [];
  entries.forEach((entry, i) => {
    const session = sessions[i];
    if (!session) return;
    const copy: ParticipantEntry = { ...entry, sessionId: session.publicId };
    if (copy['userId'] === undefined && session.userId !== undefined) copy['userId'] = session.userId;
    mapped.push(copy);
  });
  return mapped;
}

/** `switchto` with upstream's internal `sessionslist` / `sessionsmap` of signaling ids; undefined when nobody is known. */
async function mapSwitchTo(map: SessionMapper, target: string, sessions: string[] | Record<string, unknown> | undefined): Promise<Record<string, unknown> | undefined> {
  if (Array.isArray(sessions)) {
    const sessionslist = [...new Set((await mapAll(map, sessions)).map((s) => s.publicId))];
    return sessionslist.length > 0 ? { roomid: target, sessionslist } : undefined;
  }
  const entries = Object.entries(sessions ?? {});
  const found = await Promise.all(entries.map(([ncId]) => map(ncId)));
  const sessionsmap: Record<string, unknown> = {};
  let any = false;
  entries.forEach(([, details], i) => {
    const session = found[i];
    if (!session) return;
    sessionsmap[session.publicId] = details;
    any = true;
  });
  return any ? { roomid: target, sessionsmap } : undefined;
}

async function mapAll(map: SessionMapper, ids: readonly unknown[]): Promise<MappedSession[]> {
  return (await Promise.all(ids.map(map))).filter((s): s is MappedSession => s !== undefined);
}

function withProperties(base: Record<string, unknown>, properties: unknown): Record<string, unknown> {
  return properties === undefined ? base : { ...base, properties };
}

function without(list: readonly string[], remove: readonly string[]): string[] {
  const skip = new Set(remove);
  return list.filter((id) => !skip.has(id));
}
