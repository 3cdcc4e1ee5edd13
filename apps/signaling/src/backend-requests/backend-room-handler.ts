import type { BackendRoomRequest } from '@talk-signaling/protocol';
import type { Logger } from '@talk-signaling/runtime';
import type { Backend } from '../backend/backend';
import type { BackendApiResult } from '../http/backend-api';
import type { ParticipantEntry } from '../room/room';
import type { RoomSessionIndex } from '../room/room-session-index';
import type { ClientSession } from '../session/client-session';
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

export interface BackendRoomHandlerDeps {
  hub: Hub;
  roomSessions: RoomSessionIndex;
  router: Router;
  dialouts: DialoutStarter;
  log: Logger;
}

const OK: BackendApiResult = { status: 200, body: {} };

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
        for (const session of this.#mapSessions(backend, sessionids)) {
          this.#deps.router.toSession(session.publicId, { type: 'event', event: { target: 'roomlist', ...event } });
        }
        this.#roomlist(backend, without(alluserids, userids), { type: 'update', update: withProperties({ roomid: roomId }, properties) });
        return OK;
      }
      case 'update':
        this.#toRoom(backend, roomId, { type: 'update', update: request.update });
        this.#roomlist(backend, request.update.userids ?? [], { type: 'update', update: withProperties({ roomid: roomId }, request.update.properties) });
        return OK;
      case 'delete':
        this.#toRoom(backend, roomId, { type: 'delete', delete: request.delete });
        this.#roomlist(backend, request.delete.userids ?? [], { type: 'disinvite', disinvite: { roomid: roomId, reason: 'deleted' } });
        return OK;
      case 'participants': {
        const changed = this.#mapEntries(backend, request.participants.changed ?? []);
        const users = this.#mapEntries(backend, request.participants.users ?? []);
        if (changed.length > 0 || users.length > 0) this.#toRoom(backend, roomId, { type: 'participants', participants: { changed, users } });
        return OK;
      }
      case 'incall': {
        if (request.incall.all) {
          this.#toRoom(backend, roomId, { type: 'incall', incall: request.incall });
          return OK;
        }
        const changed = this.#mapEntries(backend, request.incall.changed ?? []);
        const users = this.#mapEntries(backend, request.incall.users ?? []);
        if (changed.length > 0 || users.length > 0) this.#toRoom(backend, roomId, { type: 'incall', incall: { ...request.incall, changed, users } });
        return OK;
      }
      case 'message':
        this.#toRoom(backend, roomId, { type: 'message', message: request.message });
        return OK;
      case 'switchto': {
        const { roomid: target, sessions } = request.switchto;
        const switchto = this.#mapSwitchTo(backend, target, sessions);
        if (switchto) this.#toRoom(backend, roomId, { type: 'switchto', switchto });
        return OK;
      }
      case 'dialout':
        return this.#deps.dialouts.start(backend, roomId, request.dialout, backendHeader);
      case 'transient':
        return { status: 400, body: {} };
    }
  };

  /** Publishes a request for every node hosting the room, stamped with its arrival time (ns). */
  #toRoom(backend: Backend, roomId: string, request: RoomRequest): void {
    request.received = Date.now() * 1_000_000;
    this.#deps.router.toBackendRoom(roomId, backend.id, request);
  }

  #roomlist(backend: Backend, userIds: readonly string[], event: Record<string, unknown>): void {
    if (userIds.length === 0) return;
    // One object for every user: each node encodes it once for all receivers.
    const message: ServerMessageObject = { type: 'event', event: { target: 'roomlist', ...event } };
    for (const userId of new Set(userIds)) this.#deps.router.toUser(userId, backend.id, message);
  }

  /**
   * Nextcloud entries with signaling session ids (unknown sessions dropped); `permissions` stay
   * for the hosting nodes to apply and are removed before anybody sees the entry.
   */
  #mapEntries(backend: Backend, entries: readonly Record<string, unknown>[]): ParticipantEntry[] {
    const mapped: ParticipantEntry[] = [];
    for (const entry of entries) {
      const session = this.#mapSession(backend, entry['sessionId']);
      if (!session) continue;
      const copy: ParticipantEntry = { ...entry, sessionId: session.publicId };
      if (copy['userId'] === undefined && session.roomUserId) copy['userId'] = session.roomUserId;
      mapped.push(copy);
    }
    return mapped;
  }

  /** `switchto` with upstream's internal `sessionslist` / `sessionsmap` of signaling ids; undefined when nobody is known. */
  #mapSwitchTo(backend: Backend, target: string, sessions: string[] | Record<string, unknown> | undefined): Record<string, unknown> | undefined {
    if (Array.isArray(sessions)) {
      const sessionslist = [...new Set(this.#mapSessions(backend, sessions).map((s) => s.publicId))];
      return sessionslist.length > 0 ? { roomid: target, sessionslist } : undefined;
    }
    const sessionsmap: Record<string, unknown> = {};
    let any = false;
    for (const [ncId, details] of Object.entries(sessions ?? {})) {
      const session = this.#mapSession(backend, ncId);
      if (!session) continue;
      sessionsmap[session.publicId] = details;
      any = true;
    }
    return any ? { roomid: target, sessionsmap } : undefined;
  }

  #mapSessions(backend: Backend, ids: readonly string[]): ClientSession[] {
    return ids.map((id) => this.#mapSession(backend, id)).filter((s): s is ClientSession => s !== undefined);
  }

  /** Nextcloud session id → session, from this node's table (other nodes' sessions: not yet). */
  #mapSession(backend: Backend, ncSessionId: unknown): ClientSession | undefined {
    if (typeof ncSessionId !== 'string' || ncSessionId === '' || ncSessionId === '0') return undefined;
    return this.#deps.roomSessions.get(backend.id, ncSessionId);
  }
}

function withProperties(base: Record<string, unknown>, properties: unknown): Record<string, unknown> {
  return properties === undefined ? base : { ...base, properties };
}

function without(list: readonly string[], remove: readonly string[]): string[] {
  const skip = new Set(remove);
  return list.filter((id) => !skip.has(id));
}
