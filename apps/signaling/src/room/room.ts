import type { BusSubscription } from '@talk-signaling/nats-bus';
import type { Logger } from '@talk-signaling/runtime';
import { asyncMessage, type AsyncRoomEvent, type AsyncRoomRequest, type AsyncServerMessage, type RoomRequest, type ServerMessageObject } from '../delivery/async-message';
import type { Router } from '../delivery/router';
import { InCallFlag } from '@talk-signaling/protocol';
import type { ClientSession, ClientType, SessionRoom } from '../session/client-session';
import type { RoomMetrics } from './room-metrics';
import { TransientData, transientChangeMessage, transientInitialMessage, ttlFromNanoseconds, type TransientSetResult } from './transient-data';

const IN_CALL_FLAG = InCallFlag.InCall;
const CLIENT_TYPES: readonly ClientType[] = ['client', 'internal', 'virtual', 'federation'];

/** A Nextcloud participant object with `sessionId` already translated to a signaling id. */
export type ParticipantEntry = Record<string, unknown>;

/** One entry of a `join` event (1.7.1). */
export interface JoinEntry {
  sessionid: string;
  userid: string;
  user?: unknown;
  roomsessionid?: string;
  features?: string[];
  /** Set for sessions of other signaling servers (federation, section 9). */
  federated?: true;
}

/** Internal and virtual sessions the other nodes of a cluster hold in a room (gRPC `GetInternalSessions`). */
export interface RemoteInternalSessions {
  internal: { sessionId: string; inCall: number; features: string[] }[];
  virtual: { sessionId: string; inCall: number }[];
}

export interface RoomOptions {
  id: string;
  backendId: string;
  /** Opaque properties from Nextcloud, passed through unchanged. */
  properties: unknown;
  router: Router;
  metrics: RoomMetrics;
  log: Logger;
  /** Joins/leaves within this window go out as one event (ms). */
  batchMs: number;
  /** Called once the last local member left. */
  onEmpty: (room: Room) => void;
  /** Only in a cluster: asks the other nodes (upstream: 1 s). */
  remoteInternalSessions?: (roomId: string, backendId: string) => Promise<RemoteInternalSessions>;
}

/**
 * A room on this node: its local members, its properties, and the room events. Joins and
 * leaves that happen close together are sent as one event with a list, each encoded once, so
 * filling a room of N costs O(N) frames per batch instead of O(N²) single-entry events.
 */
export class Room implements SessionRoom {
  readonly id: string;
  readonly backendId: string;
  properties: unknown;
  readonly log: Logger;
  readonly #opts: RoomOptions;
  readonly #members = new Map<string, ClientSession>();
  readonly #subscription: BusSubscription;
  readonly #nodesSubscription: BusSubscription;
  /** Transient requests this node published: they come back from the bus as the same objects. */
  readonly #ownRequests = new WeakSet<object>();
  /** The last change of each transient key (see #isLatest); oldest entries forgotten past a bound. */
  readonly #lastChanges = new Map<string, { at: number; json: string | undefined }>();
  /** Joiners this node announced to the room's other nodes whose announcement has not come back yet. */
  readonly #announced = new Set<string>();
  /** Joined since the last flush; not yet announced. */
  #pendingJoins: ClientSession[] = [];
  /** Left since the last flush; ids of announced members only. */
  #pendingLeaves: string[] = [];
  /** Members with the in-call flag (`signaling_call_*`). */
  readonly #inCall = new Set<ClientSession>();
  /** An internal client left since the last flush: members get a participants update. */
  #internalLeft = false;
  #flushTimer: NodeJS.Timeout | undefined;
  #closed = false;
  /**
   * Participants updates waiting for other nodes' internal sessions, and what is published
   * after them with publishAfterUpdates, leave in the order asked; `#queued` counts what waits.
   */
  #updates: Promise<void> = Promise.resolve();
  #queued = 0;
  /** Transient data of this room on this node (1.11); cleared when the room is destroyed. */
  readonly transient = new TransientData({
    onChange: (key, value, oldValue) => this.#sendTransient(transientChangeMessage(key, value, oldValue)),
  });
  /**
   * The last `users` list Nextcloud sent (participants/incall), with signaling session ids;
   * replayed to sessions that resume.
   */
  lastUsers: ParticipantEntry[] = [];

  constructor(opts: RoomOptions) {
    this.id = opts.id;
    this.backendId = opts.backendId;
    this.properties = opts.properties;
    this.log = opts.log;
    this.#opts = opts;
    this.#subscription = opts.router.subscribeRoom(opts.id, opts.backendId, (m) => this.#fanOut(m));
    this.#nodesSubscription = opts.router.subscribeRoomNodes(opts.id, opts.backendId, (m) => this.#fromNodes(m));
  }

  get size(): number {
    return this.#members.size;
  }

  members(): IterableIterator<ClientSession> {
    return this.#members.values();
  }

  hasMember(session: ClientSession): boolean {
    return this.#members.get(session.publicId) === session;
  }

  addSession(session: ClientSession): void {
    this.#members.set(session.publicId, session);
    session.room = this;
    this.#opts.metrics.roomSessions.inc(this.#labels(session));
    this.inCallChanged(session);
    this.#pendingJoins.push(session);
    this.#scheduleFlush();
    // Right after the `room` reply, before the join events (upstream AddSession → AddListener).
    if (isTransientListener(session) && this.transient.size > 0) {
      this.#opts.router.deliver(session, asyncMessage(transientInitialMessage(this.transient.snapshot())));
    }
  }

  /**
   * Transient data other nodes held for this room before it was hosted here (`GetTransientData`):
   * what is new goes to the local members as an `initial` message (upstream `SetInitial`).
   */
  addInitialTransient(entries: Record<string, { value: unknown; expires?: number }>): void {
    if (this.#closed) return;
    const added = this.transient.setInitial(entries);
    if (Object.keys(added).length === 0) return;
    const message = asyncMessage(transientInitialMessage(added));
    for (const member of this.#members.values()) if (isTransientListener(member)) this.#opts.router.deliver(member, message);
  }

  /** Removes a member; the others learn it with the next batch. Destroys the room when empty. */
  removeSession(session: ClientSession): void {
    if (this.#members.get(session.publicId) !== session) return;
    this.#members.delete(session.publicId);
    if (session.room === this) session.room = undefined;
    // A session's own transient data leaves with it (feature `transient-sessiondata`), on every node.
    this.removeTransient(`sd:${session.publicId}`);
    this.#opts.metrics.roomSessions.dec(this.#labels(session));
    this.#leaveCall(session);
    const pending = this.#pendingJoins.indexOf(session);
    if (pending >= 0) this.#pendingJoins.splice(pending, 1); // never announced: no leave either
    else {
      this.#pendingLeaves.push(session.publicId);
      if (session.clientType === 'internal') this.#internalLeft = true;
    }
    if (this.#members.size === 0) {
      this.#flush();
      this.close();
      this.#opts.onEmpty(this);
    } else this.#scheduleFlush();
  }

  /** Call bookkeeping for `signaling_call_*` (upstream v2.1): a member's in-call flag changed. */
  inCallChanged(session: ClientSession): void {
    if (this.#members.get(session.publicId) !== session) return;
    if (!(session.inCall & IN_CALL_FLAG)) {
      this.#leaveCall(session);
      return;
    }
    if (this.#inCall.has(session)) return;
    const { metrics } = this.#opts;
    if (this.#inCall.size === 0) metrics.callRoomsTotal.inc({ backend: this.backendId });
    this.#inCall.add(session);
    metrics.callSessions.inc(this.#labels(session));
    metrics.callSessionsTotal.inc({ backend: this.backendId, clienttype: session.clientType });
  }

  #leaveCall(session: ClientSession): void {
    if (!this.#inCall.delete(session)) return;
    const labels = this.#labels(session);
    // The last one out removes the room's series, so ended calls do not pile up in /metrics.
    if (this.#inCall.size === 0) for (const clienttype of CLIENT_TYPES) this.#opts.metrics.callSessions.remove({ ...labels, clienttype });
    else this.#opts.metrics.callSessions.dec(labels);
  }

  /**
   * Publishes `participants`/`update` (1.7.3): `changed` entries not in `users` are merged into
   * `users` (clients only ever see `users`), then internal and virtual members are appended
   * with their in-call flags. Encoded once for every receiver.
   */
  publishParticipantsUpdate(changed: readonly ParticipantEntry[] = [], users: readonly ParticipantEntry[] = this.lastUsers): void {
    this.sendParticipantsUpdate(changed, users, (update) => this.#toRoom(update));
  }

  /**
   * Hands the `participants`/`update` for `changed` and `users` to `send`; in a cluster the
   * internal and virtual sessions of the other nodes are added first (upstream asks only when
   * the update lists somebody already). Updates of one room reach `send` in the order asked.
   */
  sendParticipantsUpdate(changed: readonly ParticipantEntry[], users: readonly ParticipantEntry[], send: (update: ServerMessageObject) => void): void {
    const remote = this.#opts.remoteInternalSessions;
    if (remote === undefined) {
      send(this.participantsUpdate(changed, users));
      return;
    }
    const listed = updateUsers(this.participantsUpdate(changed, users)).length > 0;
    const fetched = listed
      ? remote(this.id, this.backendId).catch((err: unknown) => {
          this.log.warn({ err }, 'could not get the internal sessions of the other nodes');
          return undefined;
        })
      : undefined;
    this.#queue(async () => {
      const found = await fetched;
      if (this.#closed) return;
      // Built now: local members may have changed while the other nodes answered.
      const update = this.participantsUpdate(changed, users);
      if (found) addRemoteSessions(updateUsers(update), found);
      send(update);
    });
  }

  /** The `participants`/`update` message for `changed` and `users` (see publishParticipantsUpdate). */
  participantsUpdate(changed: readonly ParticipantEntry[] = [], users: readonly ParticipantEntry[] = this.lastUsers): ServerMessageObject {
    const merged = [...users];
    const listed = new Set(users.map((u) => u['sessionId']));
    for (const entry of changed) {
      if (!listed.has(entry['sessionId'])) {
        merged.push(entry);
        listed.add(entry['sessionId']);
      }
    }
    const now = Math.floor(Date.now() / 1000);
    for (const member of this.#members.values()) {
      if ((member.clientType !== 'internal' && member.clientType !== 'virtual') || listed.has(member.publicId)) continue;
      merged.push({ inCall: member.inCall, sessionId: member.publicId, lastPing: now, [member.clientType]: true });
    }
    return { type: 'event', event: { target: 'participants', type: 'update', update: { roomid: this.id, users: merged } } };
  }

  /** Sends the pending batched join/leave events now, so that what is published next follows them. */
  flushEvents(): void {
    this.#flushPending();
  }

  /**
   * A member's direct message goes to its receiver at once; if that member's join is still
   * gathered, the join goes first, so receivers know a sender before its messages (as upstream,
   * which announces each join at once). Other members' messages do not cut the batch short.
   */
  flushJoinOf(session: ClientSession): void {
    if (this.#pendingJoins.includes(session)) this.#flushPending();
  }

  /**
   * A client's change of the room's transient data: applied here at once (so a value that does
   * not fit is refused to the sender), then on the room's other nodes (upstream: a `transient`
   * backend room request on the room's backend subject). `ttlNs`: the client's TTL in ns.
   */
  setTransient(key: string, value: unknown, ttlNs?: number): TransientSetResult {
    const result = this.transient.trySet(key, value, ttlFromNanoseconds(ttlNs));
    if (result !== 'full') {
      const json = value === undefined ? undefined : JSON.stringify(value);
      this.#toNodes(key, json, { type: 'transient', transient: { action: 'set', key, value, ...(ttlNs ? { ttl: ttlNs } : {}) } });
    }
    return result;
  }

  /** Removes a key of the transient data here and on the room's other nodes. */
  removeTransient(key: string): void {
    this.transient.remove(key);
    this.#toNodes(key, undefined, { type: 'transient', transient: { action: 'delete', key } });
  }

  /** Publishes a server message to every member of the room on every node. */
  publish(message: ServerMessageObject): void {
    this.#toRoom(message);
  }

  /**
   * {@link publish}, but after the participants updates asked for before it (in a cluster they
   * wait for the other nodes): a virtual session's `flags` event follows the update listing it,
   * as upstream. Joins and leaves do not wait.
   */
  publishAfterUpdates(message: ServerMessageObject): void {
    if (this.#queued === 0) this.#toRoom(message);
    else this.#queue(() => this.#toRoom(message));
  }

  #toRoom(message: ServerMessageObject): void {
    this.#flushPending();
    this.#opts.router.toRoom(this.id, this.backendId, message);
  }

  /**
   * Joins and leaves still gathered go out before anything else published to the room, so
   * nothing overtakes them (upstream announces each at once); the batch window only merges them.
   */
  #flushPending(): void {
    if (this.#flushTimer !== undefined && !this.#closed) this.#flush();
  }

  /** Runs `step` after everything queued before it (see #updates). */
  #queue(step: () => void | Promise<void>): void {
    this.#queued++;
    this.#updates = this.#updates
      .then(step)
      .catch((err: unknown) => this.log.warn({ err }, 'could not publish to the room'))
      .finally(() => {
        this.#queued--;
      });
  }

  /**
   * Delivers a server message to the members on this node only: for what every node hosting
   * the room produces itself (the answers to Nextcloud's backend requests), so that nobody
   * receives it once per node.
   */
  deliverLocally(message: ServerMessageObject): void {
    this.#fanOut(asyncMessage(message));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#flushTimer);
    this.#subscription.unsubscribe();
    this.#nodesSubscription.unsubscribe();
    this.transient.clear();
  }

  /**
   * Transient notifications go to the local client and internal members only (upstream's
   * listeners are its `ClientSession`s; virtual sessions are not): the data is per node, so
   * the bus is not involved. One shared message, so the frame is encoded once.
   */
  #sendTransient(message: ServerMessageObject): void {
    const shared = asyncMessage(message);
    for (const member of this.#members.values()) if (isTransientListener(member)) this.#opts.router.deliver(member, shared);
  }

  #labels(session: ClientSession) {
    return { backend: this.backendId, room: this.id, clienttype: session.clientType };
  }

  #scheduleFlush(): void {
    if (this.#flushTimer !== undefined || this.#closed) return;
    this.#flushTimer = setTimeout(() => this.#flush(), batchWindowMs(this.#opts.batchMs, this.#members.size));
  }

  /**
   * Sends what changed since the last flush, in this order (each frame encoded once):
   *   1. `leave` with every id that left, to all members;
   *   2. `join` with every new member, to all members (the joiners included);
   *   3. `join` listing the members that were already there, to the joiners only;
   *   4. `sessionjoined` per joiner to the room's other nodes, which answer the joiner with the
   *      members they hold (as upstream; one `join` event per node).
   */
  #flush(): void {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    if (this.#pendingLeaves.length > 0) {
      const leave = this.#pendingLeaves;
      this.#pendingLeaves = [];
      this.publish({ type: 'event', event: { target: 'room', type: 'leave', leave } });
    }
    const joiners = this.#pendingJoins.filter((s) => this.hasMember(s));
    this.#pendingJoins = [];
    // Talk clients learn of recording servers and SIP bridges only from participants updates
    // (upstream publishes one whenever an internal client joins or leaves).
    const internalChanged = this.#internalLeft || joiners.some((s) => s.clientType === 'internal');
    this.#internalLeft = false;
    if (joiners.length === 0) {
      if (internalChanged) this.#publishInternalChange();
      return;
    }
    this.publish({ type: 'event', event: { target: 'room', type: 'join', join: joiners.map(joinEntry) } });
    const joined = new Set(joiners);
    const existing: JoinEntry[] = [];
    for (const member of this.#members.values()) if (!joined.has(member)) existing.push(joinEntry(member));
    if (existing.length > 0) {
      const initial: ServerMessageObject = { type: 'event', event: { target: 'room', type: 'join', join: existing } };
      // Encoded once for all joiners of this batch, not once per joiner.
      this.#opts.router.toLocalSessions(joiners, initial);
      for (const message of this.#virtualFlags(joined)) this.#opts.router.toLocalSessions(joiners, message);
    }
    if (internalChanged) this.#publishInternalChange();
    for (const joiner of joiners) {
      this.#announced.add(joiner.publicId);
      this.#opts.router.toRoomNodes(this.id, this.backendId, { type: 'sessionjoined', sessionid: joiner.publicId, clienttype: joiner.clientType });
    }
  }

  /** A participants update with the internal and virtual members, unless it would list nobody (as upstream). */
  #publishInternalChange(): void {
    if (this.#members.size === 0) return;
    this.sendParticipantsUpdate([], this.lastUsers, (update) => {
      if (updateUsers(update).length > 0) this.#toRoom(update);
    });
  }

  /** Publishes a local transient change, stamped later than any change of the key seen so far. */
  #toNodes(key: string, json: string | undefined, request: RoomRequest): void {
    const at = Math.max(Date.now(), (this.#lastChanges.get(key)?.at ?? 0) + 1);
    this.#remember(key, at, json);
    this.#ownRequests.add(request);
    this.#opts.router.toBackendRoom(this.id, this.backendId, request, new Date(at).toISOString());
  }

  /**
   * Whether a change of `key` made on another node at `at` (its `sendtime`) is newer than the
   * last one applied here. Two nodes changing one key at the same moment settle it the same way
   * on every node: the later change wins, a remove wins a tie, then the larger JSON. (Upstream
   * gets one order from the NATS server; this node hands its own changes to its members without
   * the round trip.)
   */
  #isLatest(key: string, at: number, json: string | undefined): boolean {
    if (!Number.isFinite(at)) return true;
    const last = this.#lastChanges.get(key);
    if (last && !(at > last.at || (at === last.at && winsTie(json, last.json)))) return false;
    this.#remember(key, at, json);
    return true;
  }

  #remember(key: string, at: number, json: string | undefined): void {
    this.#lastChanges.delete(key);
    this.#lastChanges.set(key, { at, json });
    if (this.#lastChanges.size > MAX_REMEMBERED_CHANGES) this.#lastChanges.delete(this.#lastChanges.keys().next().value!);
  }

  /** What the room's nodes tell each other: joins, and transient data changes made elsewhere. */
  #fromNodes(message: AsyncRoomEvent | AsyncRoomRequest): void {
    if (message.type === 'asyncroom') {
      this.#sessionJoined(message.asyncroom.sessionid);
      return;
    }
    const request = message.room;
    if (request.type !== 'transient' || this.#ownRequests.has(request) || this.#closed) return;
    // From another node (or a Go one): checked field by field.
    const change = request['transient'] as { action?: unknown; key?: unknown; value?: unknown; ttl?: unknown } | undefined;
    if (typeof change !== 'object' || change === null || typeof change.key !== 'string' || change.key === '') return;
    const ttl = typeof change.ttl === 'number' && Number.isFinite(change.ttl) && change.ttl > 0 ? change.ttl : undefined;
    if (change.action !== 'delete' && change.action !== 'set') return;
    const json = change.action === 'set' && change.value !== undefined ? JSON.stringify(change.value) : undefined;
    if (!this.#isLatest(change.key, Date.parse(message.sendtime), json)) return;
    if (change.action === 'delete') this.transient.remove(change.key);
    else if (this.transient.trySet(change.key, change.value, ttlFromNanoseconds(ttl)) === 'full') {
      this.log.warn({ key: change.key }, 'transient data from another node does not fit this room');
    }
  }

  /**
   * A session joined this room on some node: another node's joiner gets this node's members.
   * This node's own announcements come back too (the bus delivers to every node); their joiners
   * already have the local list from #flush.
   */
  #sessionJoined(sessionid: string): void {
    if (this.#announced.delete(sessionid) || this.#members.has(sessionid) || this.#members.size === 0) return;
    const join: JoinEntry[] = [];
    for (const member of this.#members.values()) join.push(joinEntry(member));
    this.#opts.router.toSession(sessionid, { type: 'event', event: { target: 'room', type: 'join', join } });
    for (const message of this.#virtualFlags()) this.#opts.router.toSession(sessionid, message);
  }

  /** `participants`/`flags` of the virtual members with flags set, for a joiner (as upstream). */
  #virtualFlags(except?: Set<ClientSession>): ServerMessageObject[] {
    const messages: ServerMessageObject[] = [];
    for (const member of this.#members.values()) {
      const flags = member.clientType === 'virtual' ? (member as ClientSession & { flags?: number }).flags : undefined;
      if (!flags || except?.has(member)) continue;
      messages.push({ type: 'event', event: { target: 'participants', type: 'flags', flags: { roomid: this.id, sessionid: member.publicId, flags } } });
    }
    return messages;
  }

  /** One bus message for the room: every local member gets the shared frame. */
  #fanOut(message: AsyncServerMessage): void {
    for (const member of this.#members.values()) this.#opts.router.deliver(member, message);
  }
}

/** Of two changes of a key stamped alike, a remove (no JSON) beats a set, then the larger JSON wins. */
function winsTie(json: string | undefined, lastJson: string | undefined): boolean {
  if (json === undefined) return lastJson !== undefined;
  return lastJson !== undefined && json > lastJson;
}

/**
 * How long joins and leaves are gathered before they go out. A flush writes one frame to every
 * member, so in a room of more than `MEMBERS_PER_WINDOW` the window grows with the room: its
 * join/leave frames stay at about that many per `batchMs` (each frame listing more entries),
 * and filling a room of 2,000 costs tens of thousands of frames instead of hundreds of
 * thousands. Bounded, so a join is never announced much later than that.
 */
export function batchWindowMs(batchMs: number, members: number): number {
  return Math.min(Math.max(batchMs, MAX_BATCH_WINDOW_MS), (batchMs * Math.max(members, MEMBERS_PER_WINDOW)) / MEMBERS_PER_WINDOW);
}

const MEMBERS_PER_WINDOW = 200;
const MAX_BATCH_WINDOW_MS = 500;

/** Transient keys whose last change a room remembers to order changes from several nodes. */
const MAX_REMEMBERED_CHANGES = 4096;

/** Client and internal sessions get transient data (upstream: `*ClientSession`); virtual ones do not. */
function isTransientListener(session: ClientSession): boolean {
  return session.clientType === 'client' || session.clientType === 'internal' || session.clientType === 'federation';
}

/** How a session appears in `join` events. */
export function joinEntry(session: ClientSession): JoinEntry {
  const entry: JoinEntry = { sessionid: session.publicId, userid: session.effectiveUserId };
  if (session.user !== undefined && session.user !== null) entry.user = session.user;
  if ((session.clientType === 'client' || session.clientType === 'federation') && session.roomSessionId) {
    entry.roomsessionid = session.roomSessionId;
  }
  if (session.clientType === 'federation') entry.federated = true;
  // Feature `join-features`: others learn what the joiner's client supports (hello `features`).
  if (session.features.size > 0) entry.features = [...session.features];
  return entry;
}

function updateUsers(update: ServerMessageObject): ParticipantEntry[] {
  return (update['event'] as { update: { users: ParticipantEntry[] } }).update.users;
}

/** Other nodes' internal and virtual sessions appended to `users` (entries already listed win, as upstream). */
function addRemoteSessions(users: ParticipantEntry[], found: RemoteInternalSessions): void {
  const listed = new Map(users.map((u, i) => [u['sessionId'], i]));
  const now = Math.floor(Date.now() / 1000);
  for (const s of found.internal) {
    if (listed.has(s.sessionId)) continue;
    listed.set(s.sessionId, users.length);
    // Same shape as this node's internal members (fact sheet 1.7.3: no `features`).
    users.push({ inCall: s.inCall, sessionId: s.sessionId, lastPing: now, internal: true });
  }
  for (const s of found.virtual) {
    const i = listed.get(s.sessionId);
    if (i === undefined) {
      listed.set(s.sessionId, users.length);
      users.push({ inCall: s.inCall, sessionId: s.sessionId, lastPing: now, virtual: true });
      continue;
    }
    const entry = users[i]!;
    // Nextcloud lists a virtual session of another node: marked as upstream does (a copy: entries are shared).
    if (entry['userId'] === undefined || entry['userId'] === '') users[i] = { ...entry, virtual: true, inCall: s.inCall };
  }
}
