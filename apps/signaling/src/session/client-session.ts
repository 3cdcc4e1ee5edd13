import { Permission } from '@talk-signaling/protocol';
import type { Logger } from '@talk-signaling/runtime';
import type { Backend } from '../backend/backend';
import type { ClientConnection } from '../connection/client-connection';
import type { SessionIdData } from './session-id-codec';

/** A serialised server message: a string, or a UTF-8 buffer shared by many recipients. */
export type Frame = string | Buffer;

/** What a session needs to know about the room it is in (implemented by `Room`). */
export interface SessionRoom {
  readonly id: string;
  readonly backendId: string;
  /** The session's in-call flags changed (call metrics). */
  inCallChanged?(session: ClientSession): void;
  /** Sends the room's gathered join/leave events now, so that what is published next follows them. */
  flushEvents?(): void;
  /** {@link flushEvents} when `session`'s own join is among the gathered ones. */
  flushJoinOf?(session: ClientSession): void;
}

/**
 * `virtual`: sessions an internal client creates for its participants (SIP phones);
 * `federation`: another signaling server acting for one of its sessions (section 9).
 */
export type ClientType = 'client' | 'internal' | 'virtual' | 'federation';

/** Everything fixed when a session is created by a successful hello. */
export interface ClientSessionInit {
  privateId: string;
  publicId: string;
  idData: SessionIdData;
  backend: Backend;
  /** URL for room/ping/session requests to Nextcloud (section 3.2). */
  backendUrl: string;
  clientType: ClientType;
  /** Authenticated Nextcloud user id; empty for anonymous and internal sessions. */
  userId: string;
  /** Opaque user data from Nextcloud (v1 `auth.user`, v2 `userdata`); forwarded untouched. */
  user: unknown;
  helloVersion: '1.0' | '2.0';
  features: readonly string[];
  log: Logger;
  /** Bound of the queue kept while detached; default {@link DEFAULT_PENDING_BUDGET}. */
  pendingBudget?: Readonly<PendingBudget>;
}

/**
 * What a detached session may hold for its resume (issue 10): past either bound the session
 * expires at once, as if its resume window had passed.
 *
 * Why expire rather than drop the oldest: a client that resumes expects every message it
 * missed (upstream keeps them all), and a resumed session with a hole in it would carry on
 * with a wrong picture of the room (a missed join, a lost offer). A failed resume
 * (`no_such_session`) is what Talk clients already handle: they say hello afresh and re-join,
 * and Nextcloud and the room then tell them the current state.
 */
export interface PendingBudget {
  /** Frames (default {@link DEFAULT_PENDING_BUDGET}). */
  maxMessages: number;
  /** Bytes of those frames (string length for strings, which are almost always ASCII JSON). */
  maxBytes: number;
}

export const DEFAULT_PENDING_BUDGET: Readonly<PendingBudget> = {
  maxMessages: 1024,
  maxBytes: 1024 * 1024, // 1 MiB: 30 s of a busy room's signalling, not its floods
};

/** What was thrown away when a detached session's queue passed its budget. */
export interface PendingOverflow {
  messages: number;
  bytes: number;
}

const PENDING_WARN = 32;
/** Talk's chat notification: only one of these is worth keeping while disconnected. */
const CHAT_REFRESH = '{"type":"chat","chat":{"refresh":true}}';

/**
 * A signaling session: outlives its WebSocket for the resume window and queues what it is
 * sent meanwhile, replaying it in order on resume.
 */
export class ClientSession {
  readonly privateId: string;
  readonly publicId: string;
  readonly idData: SessionIdData;
  readonly backend: Backend;
  readonly backendUrl: string;
  readonly clientType: ClientType;
  readonly userId: string;
  readonly user: unknown;
  readonly helloVersion: '1.0' | '2.0';
  readonly features: ReadonlySet<string>;
  readonly log: Logger;
  /** The attached socket; undefined while detached (waiting for a resume). */
  #connection: ClientConnection | undefined;
  /** Frames sent while detached, in order. */
  #pending: Frame[] = [];
  /** Bytes in {@link #pending}. */
  #pendingBytes = 0;
  readonly #budget: Readonly<PendingBudget>;
  /** Set while detached: ends the session (expiry or overflow). */
  #onExpire: ((overflow?: PendingOverflow) => void) | undefined;
  #hasPendingChatRefresh = false;
  /** Expiry timer, armed while detached. */
  #expiry: NodeJS.Timeout | undefined;
  #closed = false;
  /** The detached queue passed its budget; the session is about to end. */
  #overflowed = false;
  /** The room this session is in, if any. */
  room: SessionRoom | undefined;
  /** Nextcloud's room session id for the current room (pings, leave, uniqueness). */
  roomSessionId: string | undefined;
  /** `session.userid` of Nextcloud's room response: the user when hello had none. */
  roomUserId = '';
  /** Granted permissions; undefined = "old-style" session that never received a list. */
  permissions: ReadonlySet<string> | undefined;
  #inCall = 0;

  /** In-call flags (1.13); a change is reported to the room. */
  get inCall(): number {
    return this.#inCall;
  }

  set inCall(flags: number) {
    if (flags === this.#inCall) return;
    this.#inCall = flags;
    this.room?.inCallChanged?.(this);
  }

  constructor(init: ClientSessionInit) {
    this.privateId = init.privateId;
    this.publicId = init.publicId;
    this.idData = init.idData;
    this.backend = init.backend;
    this.backendUrl = init.backendUrl;
    this.clientType = init.clientType;
    this.userId = init.userId;
    this.user = init.user;
    this.helloVersion = init.helloVersion;
    this.features = new Set(init.features);
    this.log = init.log;
    this.#budget = init.pendingBudget ?? DEFAULT_PENDING_BUDGET;
  }

  /** The user id others see: the authenticated one, else the one from the room response. */
  get effectiveUserId(): string {
    return this.userId || this.roomUserId;
  }

  /** Old-style sessions have every permission except `hide-displaynames` (1.13). */
  hasPermission(permission: string): boolean {
    const granted = this.permissions;
    if (granted === undefined) return permission !== Permission.HideDisplayNames;
    return granted.has(permission);
  }

  get connection(): ClientConnection | undefined {
    return this.#connection;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get pendingCount(): number {
    return this.#pending.length;
  }

  /** Bytes queued while detached. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /**
   * Delivers one serialised server message: straight to the socket, or into the pending queue
   * while detached. `chatRefresh` marks Talk's chat refresh notification, kept once at most.
   */
  send(text: Frame, chatRefresh = false): void {
    if (this.#closed || this.#overflowed) return;
    const conn = this.#connection;
    if (conn && !conn.closed) {
      conn.sendText(text);
      return;
    }
    if (chatRefresh) {
      if (this.#hasPendingChatRefresh) return;
      this.#hasPendingChatRefresh = true;
    }
    const size = text.length;
    if (this.#pending.length >= this.#budget.maxMessages || this.#pendingBytes + size > this.#budget.maxBytes) {
      this.#overflow(size);
      return;
    }
    this.#pending.push(text);
    this.#pendingBytes += size;
    if (this.#pending.length === PENDING_WARN) this.log.warn({ pending: PENDING_WARN }, 'many pending messages');
  }

  /** Attaches a (new) socket. Returns the frames queued meanwhile; the caller sends them. */
  attach(conn: ClientConnection): Frame[] {
    this.#connection = conn;
    clearTimeout(this.#expiry);
    this.#expiry = undefined;
    this.#onExpire = undefined;
    const pending = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#hasPendingChatRefresh = false;
    return pending;
  }

  /**
   * The socket is gone; `onExpire` runs unless the session is resumed within `windowMs`, or
   * earlier (with what was dropped) when the queue passes its budget.
   */
  detach(conn: ClientConnection, windowMs: number, onExpire: (overflow?: PendingOverflow) => void): void {
    if (this.#connection !== conn) return;
    this.#connection = undefined;
    this.#onExpire = onExpire;
    clearTimeout(this.#expiry);
    this.#expiry = setTimeout(() => onExpire(), windowMs);
    this.#expiry.unref();
  }

  /**
   * The queue is over budget: its frames go at once and the session ends as expired. The end
   * runs as a microtask, so a delivery loop that is sending to many sessions (a room's members)
   * finishes first; it still comes before any further input, so no resume can slip in between.
   */
  #overflow(size: number): void {
    const overflow = { messages: this.#pending.length + 1, bytes: this.#pendingBytes + size };
    const onExpire = this.#onExpire;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#onExpire = undefined;
    clearTimeout(this.#expiry);
    this.log.warn({ ...overflow, budget: this.#budget }, 'pending queue over its budget, session expires');
    this.#overflowed = true; // nothing more is queued until the session is closed
    if (onExpire) queueMicrotask(() => onExpire(overflow));
  }

  /** Marks the session closed; further sends are dropped. Idempotent. */
  markClosed(): boolean {
    if (this.#closed) return false;
    this.#closed = true;
    clearTimeout(this.#expiry);
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#onExpire = undefined;
    return true;
  }

  static isChatRefresh(data: string): boolean {
    return data === CHAT_REFRESH;
  }
}
