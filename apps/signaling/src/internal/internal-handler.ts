import type { BusSubscription } from '@talk-signaling/nats-bus';
import {
  ALTERNATIVE_ERROR_MESSAGES,
  ClientFeature,
  DEFAULT_INTERNAL_INCALL,
  DEFAULT_VIRTUAL_INCALL,
  DialoutStatus,
  SignalingError,
  type AddSessionPayload,
  type DialoutClientPayload,
  type ErrorPayload,
  type InternalClientMessage,
  type RemoveSessionPayload,
  type UpdateSessionPayload,
} from '@talk-signaling/protocol';
import type { Logger } from '@talk-signaling/runtime';
import type { BackendClient } from '../backend/backend-client';
import type { Room } from '../room/room';
import type { RoomRegistry } from '../room/room-registry';
import type { RoomSessionIndex } from '../room/room-session-index';
import type { ClientSession } from '../session/client-session';
import type { SessionEvents } from '../session/session-events';
import { VirtualSession, virtualSessionKey } from '../session/virtual-session';
import { asyncMessage, type AsyncServerMessage } from '../delivery/async-message';
import type { DialoutRegistry } from './dialout-registry';
import type { CloseReason, Hub, SessionListener } from '../hub/hub';
import type { Router } from '../delivery/router';
import { errorFrame } from '../delivery/server-frames';

/** A `cleared`/`rejected` call status stays visible this long (upstream `removeCallStatusTTL`). */
export const REMOVE_CALL_STATUS_TTL_MS = 5_000;

export interface InternalHandlerDeps {
  hub: Hub;
  rooms: RoomRegistry;
  roomSessions: RoomSessionIndex;
  router: Router;
  backendClient: BackendClient;
  dialouts: DialoutRegistry;
  /** Told when an internal session changes its own in-call flags (MCU clean-up). */
  events: SessionEvents;
  log: Logger;
}

/** Bookkeeping of one live virtual session. */
interface VirtualEntry {
  /** The room it joined; kept because leaving clears `session.room` before Nextcloud is told. */
  room: Room;
  /** Its own bus subject (messages from other nodes, disinvite events). */
  subscription: BusSubscription;
  /** Set by `removesession`: where a `remove_failed` goes. */
  feedback?: { owner: ClientSession; id: string | undefined };
}

/**
 * `internal` messages of internal clients (fact sheet 1.12): virtual sessions (add, update,
 * remove), the client's own in-call flags, and dialout replies and status updates. Messages from
 * other sessions are ignored, as upstream does.
 *
 * Virtual session lifecycle:
 *
 *   addsession --NC room join / session add ok--> in room --removesession----------> closed
 *        |                                           |  \--owner closed/shutdown--> closed
 *     NC fails: add_failed                            (every close: leave event, NC leave/remove)
 */
export class InternalHandler implements SessionListener {
  readonly #deps: InternalHandlerDeps;
  /** `<owner public id>|<client id>` -> virtual session. */
  readonly #byKey = new Map<string, VirtualSession>();
  readonly #entries = new Map<VirtualSession, VirtualEntry>();
  /** Internal session -> the virtual sessions it created. */
  readonly #owned = new Map<ClientSession, Set<VirtualSession>>();

  constructor(deps: InternalHandlerDeps) {
    this.#deps = deps;
    deps.hub.addListener(this);
    deps.hub.handle('internal', (session, message) => this.#onInternal(session, message as InternalClientMessage));
  }

  /** Number of live virtual sessions on this node. */
  get virtualSessionCount(): number {
    return this.#entries.size;
  }

  /** Internal sessions start in the call with audio unless they manage their flags themselves. */
  sessionCreated(session: ClientSession): void {
    if (session.clientType !== 'internal') return;
    session.inCall = session.features.has(ClientFeature.InternalInCall) ? 0 : DEFAULT_INTERNAL_INCALL;
  }

  sessionClosed(session: ClientSession, _reason: CloseReason): void {
    if (session instanceof VirtualSession) {
      this.#virtualClosed(session);
      return;
    }
    const owned = this.#owned.get(session);
    if (!owned) return;
    this.#owned.delete(session);
    for (const virtual of [...owned]) this.#deps.hub.closeSession(virtual, 'owner_closed');
  }

  /**
   * The room a virtual session is in disinvited it: its owner is told to hang up with a
   * server-generated control (fact sheet 1.10). Called for `roomlist`/`disinvite` events
   * published to the virtual session's id (the backend API's `disinvite` with `sessionids` does
   * that); the virtual session itself stays until the owner removes it.
   */
  disinvitedVirtualSession(session: VirtualSession): void {
    const control = { type: 'control', control: { recipient: session.ownerRecipient(true), data: { type: 'hangup', hangup: { reason: 'disinvited' } } } };
    session.log.info({ room: session.room?.id }, 'virtual session disinvited, asking its owner to hang up');
    this.#deps.router.deliver(session.owner, asyncMessage(control));
  }

  #onInternal(session: ClientSession, message: InternalClientMessage): void {
    if (session.clientType !== 'internal') {
      session.log.debug({ type: message.internal.type }, 'ignoring internal message from a non-internal session');
      return;
    }
    if (this.#deps.dialouts.offerResponse(session, message)) return;
    const internal = message.internal;
    switch (internal.type) {
      case 'addsession':
        void this.#addSession(session, message.id, internal.addsession);
        return;
      case 'updatesession':
        this.#updateSession(session, internal.updatesession);
        return;
      case 'removesession':
        this.#removeSession(session, message.id, internal.removesession);
        return;
      case 'incall': {
        const flags = Math.max(0, internal.incall.incall);
        if (flags === session.inCall) return;
        session.inCall = flags;
        this.#deps.events.changed(session);
        (session.room as Room | undefined)?.publishParticipantsUpdate();
        return;
      }
      case 'dialout':
        this.#dialout(session, internal.dialout);
        return;
    }
  }

  async #addSession(owner: ClientSession, id: string | undefined, msg: AddSessionPayload): Promise<void> {
    const { rooms, hub } = this.#deps;
    const room = rooms.get(owner.backend.id, msg.roomid);
    if (!room) {
      owner.log.debug({ room: msg.roomid }, 'ignoring addsession for a room not on this node');
      return;
    }
    const ids = hub.newSessionIds(owner.backend.id);
    const inCall = msg.incall ?? (owner.features.has(ClientFeature.InternalInCall) ? 0 : DEFAULT_VIRTUAL_INCALL);
    const virtual = new VirtualSession({
      owner,
      ...ids,
      clientSessionId: msg.sessionid,
      userId: msg.userid ?? '',
      user: msg.user,
      inCall,
      flags: msg.flags ?? 0,
      options: msg.options,
      log: owner.log.child({ virtual: ids.publicId, virtualid: msg.sessionid }),
    });
    const error = await this.#addAtNextcloud(virtual, room.id);
    if (error) {
      virtual.log.warn({ room: room.id, code: error.code, err: error.message }, 'could not add virtual session');
      if (!owner.closed) this.#deps.router.send(owner, errorFrame(id, error));
      return;
    }
    if (owner.closed) {
      // The owner went away while Nextcloud answered: undo at Nextcloud, nobody to tell.
      void this.#removeAtNextcloud(virtual, room.id, undefined);
      return;
    }
    // Re-adding an id replaces the previous virtual session (upstream would orphan it).
    const previous = this.#byKey.get(virtual.key);
    if (previous) hub.closeSession(previous, 'removed');
    // The room may have emptied (and been destroyed) meanwhile; Nextcloud has accepted the session.
    const target = rooms.get(owner.backend.id, room.id) ?? rooms.getOrCreate(owner.backend.id, room.id, room.properties);

    hub.registerSession(virtual);
    this.#byKey.set(virtual.key, virtual);
    let owned = this.#owned.get(owner);
    if (!owned) this.#owned.set(owner, (owned = new Set()));
    owned.add(virtual);
    const subscription = this.#deps.router.subscribeSession(virtual.publicId, (m) => this.#onBusMessage(virtual, m));
    this.#entries.set(virtual, { room: target, subscription });
    // Its own public id is its room session id: Nextcloud's participant lists name it so.
    this.#deps.roomSessions.set(virtual, virtual.publicId);
    virtual.log.info({ room: target.id, flags: virtual.flags, incall: virtual.inCall }, 'virtual session added');

    // Join event, then participants update, then flags: upstream's order.
    target.addSession(virtual);
    target.flushEvents();
    target.publishParticipantsUpdate();
    if (virtual.flags !== 0) publishFlags(target, virtual);
  }

  /** Registers the virtual session at Nextcloud (3.3.2 with options, else 3.3.4); the error to send back, if any. */
  async #addAtNextcloud(virtual: VirtualSession, roomId: string): Promise<SignalingError | undefined> {
    const { backendClient } = this.#deps;
    if (virtual.options) {
      const room: Record<string, unknown> = { version: '1.0', roomid: roomId, userid: virtual.userId, sessionid: virtual.publicId };
      Object.assign(room, actorFields(virtual));
      if (virtual.inCall !== 0) room['incall'] = virtual.inCall;
      let data: unknown;
      try {
        data = await backendClient.postJson(virtual.backendUrl, virtual.backend, { type: 'room', room });
      } catch {
        return new SignalingError('add_failed', ALTERNATIVE_ERROR_MESSAGES.addFailedJoin);
      }
      const error = nextcloudError(data);
      return error ? new SignalingError('add_failed', error.message) : undefined;
    }
    try {
      // Upstream does not look at the answer of `session` requests, only at transport failures.
      await backendClient.postJson(virtual.backendUrl, virtual.backend, { type: 'session', session: sessionBody(virtual, roomId, 'add') });
      return undefined;
    } catch {
      return new SignalingError('add_failed', ALTERNATIVE_ERROR_MESSAGES.addFailedAdd);
    }
  }

  #updateSession(owner: ClientSession, msg: UpdateSessionPayload): void {
    const room = this.#deps.rooms.get(owner.backend.id, msg.roomid);
    const virtual = this.#byKey.get(virtualSessionKey(owner, msg.sessionid));
    if (!room || !virtual) return;
    const flagsChanged = msg.flags !== undefined && virtual.setFlags(msg.flags);
    const inCallChanged = msg.incall !== undefined && virtual.setInCall(msg.incall);
    if (flagsChanged) publishFlags(room, virtual);
    if (inCallChanged) room.publishParticipantsUpdate();
  }

  #removeSession(owner: ClientSession, id: string | undefined, msg: RemoveSessionPayload): void {
    if (!this.#deps.rooms.get(owner.backend.id, msg.roomid)) return;
    const virtual = this.#byKey.get(virtualSessionKey(owner, msg.sessionid));
    if (!virtual) return;
    const entry = this.#entries.get(virtual);
    if (entry) entry.feedback = { owner, id };
    virtual.log.info('virtual session removed by its owner');
    this.#deps.hub.closeSession(virtual, 'removed');
  }

  /** After the hub closed a virtual session (and it left its room): forget it, tell Nextcloud. */
  #virtualClosed(virtual: VirtualSession): void {
    const entry = this.#entries.get(virtual);
    if (!entry) return;
    this.#entries.delete(virtual);
    if (this.#byKey.get(virtual.key) === virtual) this.#byKey.delete(virtual.key);
    this.#owned.get(virtual.owner)?.delete(virtual);
    entry.subscription.unsubscribe();
    this.#deps.roomSessions.delete(virtual);
    void this.#removeAtNextcloud(virtual, entry.room.id, entry.feedback);
  }

  /** `room` leave (with options) or `session` remove; `remove_failed` to the owner if it asked. */
  async #removeAtNextcloud(virtual: VirtualSession, roomId: string, feedback: VirtualEntry['feedback']): Promise<void> {
    const { backendClient } = this.#deps;
    const fail = (message: string): void => {
      virtual.log.warn({ room: roomId, err: message }, 'could not remove virtual session at Nextcloud');
      if (!feedback || feedback.owner.closed) return;
      this.#deps.router.send(feedback.owner, errorFrame(feedback.id, new SignalingError('remove_failed', message)));
    };
    if (virtual.options) {
      const room: Record<string, unknown> = { version: '1.0', roomid: roomId, action: 'leave', userid: virtual.userId, sessionid: virtual.publicId };
      Object.assign(room, actorFields(virtual));
      let data: unknown;
      try {
        data = await backendClient.postJson(virtual.backendUrl, virtual.backend, { type: 'room', room });
      } catch {
        fail(ALTERNATIVE_ERROR_MESSAGES.removeFailed);
        return;
      }
      const error = nextcloudError(data);
      // The room being gone already is as good as having left it.
      if (error && error.code !== 'no_such_room') fail(error.message);
      return;
    }
    try {
      await backendClient.postJson(virtual.backendUrl, virtual.backend, { type: 'session', session: sessionBody(virtual, roomId, 'remove') });
    } catch {
      fail(ALTERNATIVE_ERROR_MESSAGES.removeFailed);
    }
  }

  /**
   * Dialout messages of the internal client (1.12.6): a `status` becomes the room's transient
   * `callstatus_<callid>`; anything else is broadcast to the room, without `roomid`.
   */
  #dialout(owner: ClientSession, payload: DialoutClientPayload): void {
    const { roomid = '', ...dialout } = payload;
    if (dialout.type === 'status' && dialout.status) {
      const { status, callid } = dialout.status;
      const key = `callstatus_${callid}`;
      const ttlNs = status === DialoutStatus.Cleared || status === DialoutStatus.Rejected ? REMOVE_CALL_STATUS_TTL_MS * 1_000_000 : 0;
      // On every node hosting the room, as upstream's `transient` backend room request. A
      // bridge placing calls is in no room, so the room usually lives on other nodes only.
      const room = this.#deps.rooms.get(owner.backend.id, roomid);
      if (room) room.setTransient(key, dialout.status, ttlNs);
      else {
        const transient = { action: 'set', key, value: dialout.status, ...(ttlNs ? { ttl: ttlNs } : {}) };
        this.#deps.router.toBackendRoom(roomid, owner.backend.id, { type: 'transient', transient });
      }
      return;
    }
    this.#deps.router.toRoom(roomid, owner.backend.id, { type: 'dialout', dialout });
  }

  /**
   * What arrives on a virtual session's own subject: messages/controls for it (from another
   * node) go to the owner with the client's id as recipient, plus the user id as upstream does
   * for this path; a disinvite from its room asks the owner to hang up.
   */
  #onBusMessage(virtual: VirtualSession, async: AsyncServerMessage): void {
    if (async.type !== 'message' || virtual.closed) return;
    const message = async.message;
    if (message.type === 'message' || message.type === 'control') {
      const payload = message[message.type] as { recipient?: { type?: string; sessionid?: string } } | undefined;
      const recipient = payload?.recipient;
      if (recipient?.type !== 'session' || recipient.sessionid !== virtual.publicId) return;
      const rewritten = { ...payload, recipient: virtual.ownerRecipient(true) };
      this.#deps.router.deliver(virtual.owner, { ...async, message: { type: message.type, [message.type]: rewritten } });
      return;
    }
    if (message.type === 'event') {
      const event = message['event'] as { target?: string; type?: string; disinvite?: { roomid?: string } } | undefined;
      if (event?.target !== 'roomlist' || event.type !== 'disinvite') return;
      const room = virtual.room;
      if (room && event.disinvite?.roomid === room.id) this.disinvitedVirtualSession(virtual);
    }
  }
}

/** `participants`/`flags` event of a virtual session (1.7.3), after the participants update asked for before it. */
function publishFlags(room: Room, virtual: VirtualSession): void {
  room.publishAfterUpdates({ type: 'event', event: { target: 'participants', type: 'flags', flags: { roomid: room.id, sessionid: virtual.publicId, flags: virtual.flags } } });
}

/** `actorid`/`actortype` of the `options`, each only when set (Go `omitempty`). */
function actorFields(virtual: VirtualSession): Record<string, string> {
  const fields: Record<string, string> = {};
  if (virtual.options?.actorId) fields['actorid'] = virtual.options.actorId;
  if (virtual.options?.actorType) fields['actortype'] = virtual.options.actorType;
  return fields;
}

/** Body of the `session` request (3.3.4); `userid`/`user` on both actions, as v1.3.0 does. */
function sessionBody(virtual: VirtualSession, roomId: string, action: 'add' | 'remove'): Record<string, unknown> {
  const body: Record<string, unknown> = { version: '1.0', roomid: roomId, action, sessionid: virtual.publicId };
  if (virtual.userId) body['userid'] = virtual.userId;
  if (virtual.user !== undefined && virtual.user !== null) body['user'] = virtual.user;
  return body;
}

/** The error of a Nextcloud `{"type":"error","error":{...}}` answer, if it is one. */
function nextcloudError(data: unknown): ErrorPayload | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const answer = data as { type?: unknown; error?: { code?: unknown; message?: unknown } };
  if (answer.type !== 'error') return undefined;
  const code = typeof answer.error?.code === 'string' ? answer.error.code : '';
  const message = typeof answer.error?.message === 'string' ? answer.error.message : '';
  return { code, message };
}
