import { inCallFlags, InCallFlag, type BackendRoomRequest } from '@talk-signaling/protocol';
import type { Logger } from '@talk-signaling/runtime';
import type { Backend } from '../backend/backend';
import type { BackendApiResult } from '../http/backend-api';
import type { ParticipantEntry, Room } from '../room/room';
import type { RoomRegistry } from '../room/room-registry';
import type { RoomSessionIndex } from '../room/room-session-index';
import type { ClientSession } from '../session/client-session';
import type { ServerMessageObject } from '../delivery/async-message';
import type { Hub } from '../hub/hub';
import type { RoomHandler } from '../room/room-handler';
import type { Router } from '../delivery/router';

/** Starts a phone call through an internal client (2.3.10); provided by the dialout registry. */
export type DialoutStarter = (
  backend: Backend,
  roomId: string,
  request: Extract<BackendRoomRequest, { type: 'dialout' }>['dialout'],
  backendHeader: string | undefined,
) => Promise<BackendApiResult>;

export interface BackendRoomHandlerDeps {
  hub: Hub;
  rooms: RoomRegistry;
  roomSessions: RoomSessionIndex;
  roomHandler: RoomHandler;
  router: Router;
  log: Logger;
  dialout?: DialoutStarter;
}

const OK: BackendApiResult = { status: 200, body: {} };

/**
 * What Nextcloud's backend requests do (fact sheet 2.3): roomlist events to users, room
 * property updates, room deletion, participant and in-call changes, room messages, switchto.
 */
export class BackendRoomHandler {
  readonly #deps: BackendRoomHandlerDeps;
  /** Set once the dialout registry exists. */
  dialout: DialoutStarter | undefined;
  /** Told after Nextcloud changed a session's in-call flags or permissions (MCU clean-up). */
  sessionChanged: ((session: ClientSession) => void) | undefined;

  constructor(deps: BackendRoomHandlerDeps) {
    this.#deps = deps;
    this.dialout = deps.dialout;
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
    const room = this.#deps.rooms.get(backend.id, roomId);
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
      case 'update': {
        const { userids = [], properties } = request.update;
        if (room && properties !== undefined && JSON.stringify(properties) !== JSON.stringify(room.properties)) {
          room.properties = properties;
          room.publish({ type: 'room', room: { roomid: roomId, properties } });
        }
        this.#roomlist(backend, userids, { type: 'update', update: withProperties({ roomid: roomId }, properties) });
        return OK;
      }
      case 'delete':
        if (room) this.#deleteRoom(room);
        this.#roomlist(backend, request.delete.userids ?? [], { type: 'disinvite', disinvite: { roomid: roomId, reason: 'deleted' } });
        return OK;
      case 'participants':
        this.#participantsChanged(backend, room, request.participants.changed ?? [], request.participants.users ?? []);
        return OK;
      case 'incall': {
        const { incall, all } = request.incall;
        if (all) {
          if (room) this.#inCallAll(room, inCallFlags(incall) ?? 0);
          return OK;
        }
        this.#participantsChanged(backend, room, request.incall.changed ?? [], request.incall.users ?? []);
        return OK;
      }
      case 'message': {
        const data = request.message.data;
        if (room && data !== undefined && data !== null) {
          room.publish({ type: 'event', event: { target: 'room', type: 'message', message: { roomid: roomId, data } } });
        }
        return OK;
      }
      case 'switchto': {
        const { roomid: target, sessions } = request.switchto;
        const details = Array.isArray(sessions) ? new Map(sessions.map((id) => [id, undefined])) : new Map(Object.entries(sessions ?? {}));
        for (const [ncId, detail] of details) {
          const session = this.#mapSession(backend, ncId);
          if (!session) continue;
          const switchto: Record<string, unknown> = { roomid: target };
          if (detail !== undefined && detail !== null) switchto['details'] = detail;
          this.#deps.router.toSession(session.publicId, { type: 'event', event: { target: 'room', type: 'switchto', switchto } });
        }
        return OK;
      }
      case 'dialout':
        if (!this.dialout) return { status: 404, body: { type: 'dialout', dialout: { error: { code: 'no_client_available', message: 'No available client found to trigger dialout.' } } } };
        return this.dialout(backend, roomId, request.dialout, backendHeader);
      case 'transient':
        return { status: 400, body: {} };
    }
  };

  #roomlist(backend: Backend, userIds: readonly string[], event: Record<string, unknown>): void {
    if (userIds.length === 0) return;
    // One object for every user: each node encodes it once for all receivers.
    const message: ServerMessageObject = { type: 'event', event: { target: 'roomlist', ...event } };
    for (const userId of new Set(userIds)) this.#deps.router.toUser(userId, backend.id, message);
  }

  /** Room deleted by Nextcloud: internal members are told, then everyone is taken out. */
  #deleteRoom(room: Room): void {
    const members = [...room.members()];
    const deleted = JSON.stringify({ type: 'event', event: { target: 'room', type: 'delete' } });
    for (const member of members) if (member.clientType === 'internal') member.send(deleted);
    const left = JSON.stringify({ type: 'room', room: { roomid: '' } });
    for (const member of members) {
      this.#deps.roomHandler.leaveRoom(member, true);
      member.send(left);
    }
  }

  /** `incall` with `all` (1.7.3): everyone on this node joins or leaves the call at once. */
  #inCallAll(room: Room, flags: number): void {
    const notify: ClientSession[] = [];
    if (flags & InCallFlag.InCall) {
      for (const member of room.members()) {
        if (member.clientType !== 'client') continue;
        if (!(member.inCall & InCallFlag.InCall)) notify.push(member);
        member.inCall = flags;
        this.sessionChanged?.(member);
      }
      if (notify.length === 0) return;
      notify.length = 0;
      for (const member of room.members()) if (member.clientType === 'client') notify.push(member);
    } else {
      let anyone = false;
      for (const member of room.members()) {
        if (member.clientType === 'virtual') continue;
        if (member.inCall & InCallFlag.InCall) anyone = true;
        if (member.clientType === 'client') member.inCall = flags;
        this.sessionChanged?.(member);
        notify.push(member);
      }
      if (!anyone) return;
    }
    const frame = Buffer.from(
      JSON.stringify({ type: 'event', event: { target: 'participants', type: 'update', update: { roomid: room.id, incall: flags, all: true } } }),
    );
    for (const member of notify) member.send(frame);
  }

  /**
   * `participants` and non-`all` `incall` (2.3.5, 2.3.6): translate the entries, apply what
   * `changed` says to the sessions it names, remember `users`, publish the update.
   */
  #participantsChanged(backend: Backend, room: Room | undefined, rawChanged: readonly Record<string, unknown>[], rawUsers: readonly Record<string, unknown>[]): void {
    const changed = this.#mapEntries(backend, rawChanged);
    const users = this.#mapEntries(backend, rawUsers);
    if (changed.length === 0 && users.length === 0) return;
    this.#applyChanged(backend, rawChanged);
    if (!room) return;
    if (users.length > 0) room.lastUsers = users;
    room.publishParticipantsUpdate(changed, users);
  }

  /** Permissions and in-call flags from `changed` entries go to the sessions they name. */
  #applyChanged(backend: Backend, changed: readonly Record<string, unknown>[]): void {
    for (const entry of changed) {
      const session = this.#mapSession(backend, entry['sessionId']);
      if (!session) continue;
      const flags = inCallFlags(entry['inCall']);
      if (flags !== undefined) session.inCall = flags;
      const permissions = entry['permissions'];
      if (Array.isArray(permissions)) session.permissions = new Set(permissions.filter((p): p is string => typeof p === 'string'));
      this.sessionChanged?.(session);
    }
  }

  /** Nextcloud entries with signaling session ids; unknown sessions dropped, `permissions` stripped. */
  #mapEntries(backend: Backend, entries: readonly Record<string, unknown>[]): ParticipantEntry[] {
    const mapped: ParticipantEntry[] = [];
    for (const entry of entries) {
      const session = this.#mapSession(backend, entry['sessionId']);
      if (!session) continue;
      const { permissions: _stripped, ...rest } = entry;
      rest['sessionId'] = session.publicId;
      if (rest['userId'] === undefined && session.roomUserId) rest['userId'] = session.roomUserId;
      mapped.push(rest);
    }
    return mapped;
  }

  #mapSessions(backend: Backend, ids: readonly string[]): ClientSession[] {
    return ids.map((id) => this.#mapSession(backend, id)).filter((s): s is ClientSession => s !== undefined);
  }

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
