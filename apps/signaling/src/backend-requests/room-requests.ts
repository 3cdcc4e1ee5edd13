import { inCallFlags, InCallFlag } from '@talk-signaling/protocol';
import type { BusSubscription } from '@talk-signaling/nats-bus';
import type { Logger } from '@talk-signaling/runtime';
import { asyncMessage, type RoomRequest } from '../delivery/async-message';
import type { Router } from '../delivery/router';
import type { SessionRegistry } from '../hub/session-registry';
import type { ParticipantEntry, Room } from '../room/room';
import type { RoomMembership } from '../room/room-membership';
import type { RoomListener, RoomRegistry } from '../room/room-registry';
import type { ClientSession } from '../session/client-session';
import type { SessionEvents } from '../session/session-events';

export interface RoomRequestsDeps {
  rooms: RoomRegistry;
  sessions: SessionRegistry;
  router: Router;
  membership: RoomMembership;
  events: SessionEvents;
  log: Logger;
}

/**
 * What a node hosting a room does with Nextcloud's requests for it (fact sheet 6.1, subject
 * `backend.room.<enc>`): property updates, deletion, in-call and participant changes, room
 * messages, switchto. The node that received the HTTP request only translates and publishes
 * it (`BackendRoomHandler`); every hosting node, that one included, gets it back from the bus
 * and acts here — one code path for one node and for a cluster.
 *
 * Events produced here go to this node's members only ({@link Room.deliverLocally}): every
 * hosting node produces them, so publishing them on the room subject would deliver them once
 * per node. What arrives is checked field by field: another node (or a Go one) sent it.
 */
export class RoomRequests implements RoomListener {
  readonly #deps: RoomRequestsDeps;
  /** Per hosted room: its subscription and the `received` time of the last request per type. */
  readonly #rooms = new Map<Room, { subscription: BusSubscription; last: Map<string, number> }>();

  constructor(deps: RoomRequestsDeps) {
    this.#deps = deps;
    deps.rooms.addListener(this);
  }

  roomCreated(room: Room): void {
    const last = new Map<string, number>();
    const subscription = this.#deps.router.subscribeBackendRoom(room.id, room.backendId, (m) => this.#apply(room, m.room, last));
    this.#rooms.set(room, { subscription, last });
  }

  roomDestroyed(room: Room): void {
    this.#rooms.get(room)?.subscription.unsubscribe();
    this.#rooms.delete(room);
  }

  #apply(room: Room, request: RoomRequest, last: Map<string, number>): void {
    const { type } = request;
    // A request older than the last one of its type lost a race between nodes (upstream rule).
    const received = typeof request.received === 'number' ? request.received : 0;
    const previous = last.get(type);
    if (previous !== undefined && previous > received) {
      room.log.debug({ type }, 'ignoring a backend request older than the last one of its type');
      return;
    }
    last.set(type, received);
    const payload = objectOf(request[type]);
    switch (type) {
      case 'update': {
        const properties = payload['properties'];
        if (properties !== undefined && JSON.stringify(properties) !== JSON.stringify(room.properties)) {
          room.properties = properties;
          room.deliverLocally({ type: 'room', room: { roomid: room.id, properties } });
        }
        return;
      }
      case 'delete':
        this.#delete(room);
        return;
      case 'incall':
        if (payload['all'] === true) this.#inCallAll(room, inCallFlags(payload['incall']) ?? 0);
        else this.#participantsChanged(room, entriesOf(payload['changed']), entriesOf(payload['users']));
        return;
      case 'participants':
        this.#participantsChanged(room, entriesOf(payload['changed']), entriesOf(payload['users']));
        return;
      case 'message': {
        const data = payload['data'];
        if (data !== undefined && data !== null) {
          room.deliverLocally({ type: 'event', event: { target: 'room', type: 'message', message: { roomid: room.id, data } } });
        }
        return;
      }
      case 'switchto':
        this.#switchTo(room, payload);
        return;
      case 'transient':
        return; // the room applies transient data itself, on the same subject (Room)
      default:
        room.log.debug({ type }, 'ignoring an unsupported backend request from the bus');
    }
  }

  /** Room deleted by Nextcloud: internal members are told, then everyone is taken out. */
  #delete(room: Room): void {
    const { router, membership } = this.#deps;
    const members = [...room.members()];
    const deleted = asyncMessage({ type: 'event', event: { target: 'room', type: 'delete' } });
    for (const member of members) if (member.clientType === 'internal') router.deliver(member, deleted);
    const left = asyncMessage({ type: 'room', room: { roomid: '' } });
    for (const member of members) {
      membership.leave(member, true);
      router.deliver(member, left);
    }
  }

  /** `incall` with `all` (1.7.3): every member on this node joins or leaves the call at once. */
  #inCallAll(room: Room, flags: number): void {
    const { events, router } = this.#deps;
    const notify: ClientSession[] = [];
    if (flags & InCallFlag.InCall) {
      for (const member of room.members()) {
        if (member.clientType !== 'client') continue;
        if (!(member.inCall & InCallFlag.InCall)) notify.push(member);
        member.inCall = flags;
        events.changed(member);
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
        events.changed(member);
        notify.push(member);
      }
      if (!anyone) return;
    }
    const update = asyncMessage({ type: 'event', event: { target: 'participants', type: 'update', update: { roomid: room.id, incall: flags, all: true } } });
    for (const member of notify) router.deliver(member, update);
  }

  /**
   * `participants` and non-`all` `incall` (2.3.5, 2.3.6), entries already carrying signaling
   * session ids: what `changed` says is applied to the sessions on this node it names, `users`
   * is remembered, and the update (without `permissions`) goes to this node's members.
   */
  #participantsChanged(room: Room, changed: ParticipantEntry[], users: ParticipantEntry[]): void {
    if (changed.length === 0 && users.length === 0) return;
    for (const entry of changed) {
      const session = this.#localSession(room, entry['sessionId']);
      if (!session) continue;
      const flags = inCallFlags(entry['inCall']);
      if (flags !== undefined) session.inCall = flags;
      const permissions = entry['permissions'];
      if (Array.isArray(permissions)) session.permissions = new Set(permissions.filter((p): p is string => typeof p === 'string'));
      this.#deps.events.changed(session);
    }
    const shownChanged = changed.map(withoutPermissions);
    const shownUsers = users.map(withoutPermissions);
    if (shownUsers.length > 0) room.lastUsers = shownUsers;
    room.sendParticipantsUpdate(shownChanged, shownUsers, (update) => room.deliverLocally(update));
  }

  /** `switchto` (2.3.9) with `sessionslist` or `sessionsmap` of signaling ids: each session on this node is told. */
  #switchTo(room: Room, payload: Record<string, unknown>): void {
    const target = typeof payload['roomid'] === 'string' ? payload['roomid'] : '';
    const list = payload['sessionslist'];
    if (Array.isArray(list)) for (const id of list) this.#sendSwitchTo(room, id, target, undefined);
    const map = payload['sessionsmap'];
    if (map !== null && typeof map === 'object' && !Array.isArray(map)) {
      for (const [id, details] of Object.entries(map)) this.#sendSwitchTo(room, id, target, details);
    }
  }

  #sendSwitchTo(room: Room, id: unknown, target: string, details: unknown): void {
    const session = this.#localSession(room, id);
    if (!session) return;
    const switchto: Record<string, unknown> = { roomid: target };
    if (details !== undefined && details !== null) switchto['details'] = details;
    this.#deps.router.toLocalSession(session, { type: 'event', event: { target: 'room', type: 'switchto', switchto } });
  }

  /** A session of this node and of the room's backend, by public id. */
  #localSession(room: Room, id: unknown): ClientSession | undefined {
    if (typeof id !== 'string') return undefined;
    const session = this.#deps.sessions.byPublicId(id);
    return session && session.backend.id === room.backendId ? session : undefined;
  }
}

function objectOf(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function entriesOf(value: unknown): ParticipantEntry[] {
  if (!Array.isArray(value)) return [];
  return value.filter((e): e is ParticipantEntry => e !== null && typeof e === 'object' && !Array.isArray(e));
}

/** Nextcloud's `permissions` are applied to the session, never shown to the others. */
function withoutPermissions(entry: ParticipantEntry): ParticipantEntry {
  if (!('permissions' in entry)) return entry;
  const { permissions: _hidden, ...rest } = entry;
  return rest;
}
