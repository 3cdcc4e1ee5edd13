import { randomBytes } from 'node:crypto';
import type { ProxySessionClient } from '@talk-signaling/cluster';
import type { ClientSocket } from '../connection/client-socket';
import {
  parseClientMessage,
  SignalingError,
  signalingError,
  type ClientMessage,
  type HelloClientMessage,
  type UnknownClientMessage,
} from '@talk-signaling/protocol';
import type { Logger } from '@talk-signaling/runtime';
import { BoundLogger } from '../connection/bound-logger';
import { ClientConnection, CloseCode, type ConnectionHandler, type ConnectionInfo } from '../connection/client-connection';
import { ClientSession, type Frame, type PendingBudget } from '../session/client-session';
import type { SessionIdCodec, SessionIdData } from '../session/session-id-codec';
import type { Throttler } from '../throttle/throttler';
import type { FeatureSet } from './feature-set';
import type { HelloAuthenticator } from './hello-authenticator';
import type { HubMetrics } from './hub-metrics';
import type { ClientTraffic } from '../connection/client-traffic';
import { byeFrame, errorFrame, helloFrame, welcomeFrame } from '../delivery/server-frames';
import type { SessionRegistry } from './session-registry';

/** Timing knobs; the defaults are upstream's constants (fact sheet section 0). */
export interface HubTimeouts {
  /** A hello must succeed within this long after connect (and after a failed hello). */
  helloMs: number;
  /** A detached session can be resumed for this long. */
  resumeWindowMs: number;
  /** Server ping period (per connection, first ping on accept). */
  pingIntervalMs: number;
  /** Read deadline per connection, moved by every pong: silent this long means dropped. */
  pongWaitMs: number;
}

export const DEFAULT_HUB_TIMEOUTS: HubTimeouts = {
  helloMs: 2_000,
  resumeWindowMs: 30_000,
  pingIntervalMs: 54_000, // 60 s pong wait x 9/10, as upstream
  pongWaitMs: 60_000,
};

/** The text of the `internal_error` a client gets when handling its message failed (details are logged). */
const INTERNAL_ERROR_TEXT = 'Processing of the message failed.';

/** Why a session ended; bye reasons are sent to the client, the rest only logged. */
export type CloseReason =
  | 'bye'
  | 'expired'
  | 'shutdown'
  | 'session_resumed'
  | 'room_join_timeout'
  | 'room_session_reconnected'
  | 'disinvited'
  // Virtual sessions only: `removesession`, or their internal owner ended.
  | 'removed'
  | 'owner_closed';

/** Handles one authenticated message type (rooms, messages, ... plug in here). */
export type SessionMessageHandler = (session: ClientSession, message: ClientMessage) => void;

/** Takes over an authenticated message before its handler; returns true when it did. */
export type SessionMessageInterceptor = (session: ClientSession, message: ClientMessage) => boolean;

/** Told when sessions come and go (rooms leave on close, etc.). */
export interface SessionListener {
  sessionCreated?(session: ClientSession): void;
  /** `replayed` are the frames queued while detached, already sent again. */
  sessionResumed?(session: ClientSession, replayed: readonly Frame[]): void;
  sessionClosed?(session: ClientSession, reason: CloseReason): void;
}

/** What the hub asks other signaling nodes (`[grpc]`; the cluster node implements it). */
export interface HubCluster {
  /** Whether there are other nodes to ask (no round trip otherwise). */
  readonly hasPeers: boolean;
  /** Client sessions of the backend of `backendUrl` on the other nodes (upstream: 1 s). */
  remoteSessionCount(backendUrl: string): Promise<number>;
  /** The node holding the session with this resume id, relayed to (`LookupResumeId` + `ProxySession`). */
  openRemoteSession(resumeId: string, info: ConnectionInfo): Promise<ProxySessionClient | undefined>;
}

export interface HubDeps {
  version: string;
  features: FeatureSet;
  codec: SessionIdCodec;
  sessions: SessionRegistry;
  authenticator: HelloAuthenticator;
  throttler: Throttler;
  metrics: HubMetrics;
  log: Logger;
  timeouts: HubTimeouts;
  /** Write-queue bound per socket before it counts as a slow consumer. */
  maxBufferedBytes: number;
  /** Bound of a detached session's queue; default {@link DEFAULT_PENDING_BUDGET}. */
  pendingBudget?: Readonly<PendingBudget>;
  /** Other signaling nodes (`[grpc]`): session limits count their sessions too. */
  cluster?: HubCluster;
  /** Client bytes/messages/RTT metrics (upstream v2.1); none in unit tests. */
  traffic?: ClientTraffic;
}

/** Per-socket state before and after hello. */
interface Peer {
  conn: ClientConnection;
  session: ClientSession | undefined;
  helloTimer: NodeJS.Timeout | undefined;
  /** A hello is being authenticated; further hellos are ignored meanwhile. */
  helloPending: boolean;
  /** Set when the session lives on another node: frames go through this relay (`ProxySession`). */
  relay?: ProxySessionClient;
}

/**
 * Connections and sessions of this node: welcome, hello (new and resume), bye, liveness, and
 * handing authenticated messages to the feature handlers.
 *
 * Session states (the resume state machine):
 *
 *   connected --hello ok--> active --socket gone--> detached --resume--> active
 *       |                     |                         |
 *   hello timeout            bye                   window over
 *       v                     v                         v
 *     (gone)               closed <-------------------- +
 */
export class Hub {
  readonly #deps: HubDeps;
  readonly #peers = new Map<ClientConnection, Peer>();
  readonly #handlers = new Map<string, SessionMessageHandler>();
  readonly #listeners: SessionListener[] = [];
  #interceptor: SessionMessageInterceptor | undefined;
  readonly #nodeId = randomBytes(4).toString('hex');
  #nextSid = 1;
  #welcome: { features: readonly string[]; frame: string } | undefined;

  constructor(deps: HubDeps) {
    this.#deps = deps;
  }

  /** Routes authenticated messages of `type` to `handler`. */
  handle(type: ClientMessage['type'], handler: SessionMessageHandler): void {
    this.#handlers.set(type, handler);
  }

  /** Sees authenticated messages (not hello/bye) before their handler; federation relays them. */
  intercept(interceptor: SessionMessageInterceptor): void {
    this.#interceptor = interceptor;
  }

  addListener(listener: SessionListener): void {
    this.#listeners.push(listener);
  }

  get connectionCount(): number {
    return this.#peers.size;
  }

  /**
   * Takes over an upgraded WebSocket: welcome, hello timer, first ping. A client relayed from
   * another node (`welcome: false`) already got its welcome there.
   */
  accept(socket: ClientSocket, info: ConnectionInfo, opts: { welcome?: boolean } = {}): void {
    const handler: ConnectionHandler = {
      onText: (conn, text) => this.#onText(conn, text),
      onBinary: (conn) => conn.sendText(errorFrame(undefined, signalingError('invalid_format').toPayload())),
      onClose: (conn) => this.#onClose(conn),
    };
    const conn = new ClientConnection(socket, info, handler, {
      log: this.#deps.log,
      maxBufferedBytes: this.#deps.maxBufferedBytes,
      onSlowConsumer: (bytes) => {
        this.#deps.metrics.slowClientsTotal.inc();
        this.#deps.metrics.slowClientBytesTotal.inc(bytes);
      },
      heartbeat: this.#deps.timeouts,
      traffic: this.#deps.traffic,
    });
    const peer: Peer = { conn, session: undefined, helloTimer: undefined, helloPending: false };
    this.#peers.set(conn, peer);
    if (opts.welcome !== false) conn.sendText(this.#welcomeFrame());
    this.#armHelloTimer(peer);
    conn.startHeartbeat();
  }

  /** Closes a session for good (bye, expiry, kicks); tells its socket why when it has one. */
  closeSession(session: ClientSession, reason: CloseReason): void {
    if (!session.markClosed()) return;
    this.#deps.sessions.remove(session);
    const labels = { backend: session.backend.id, clienttype: session.clientType };
    this.#deps.metrics.sessions.dec(labels);
    if (reason === 'expired') this.#deps.metrics.sessionsExpiredTotal.inc(labels);
    const conn = session.connection;
    if (conn) {
      const peer = this.#peers.get(conn);
      if (peer) peer.session = undefined;
      if (reason === 'room_join_timeout' || reason === 'room_session_reconnected') conn.sendAndClose(byeFrame(undefined, reason));
      else if (reason === 'shutdown') conn.close(CloseCode.GoingAway, 'server shutting down');
      // The disinvite event was the last frame; an empty close frame follows (clients see 1005).
      else if (reason === 'disinvited') conn.closeWithoutStatus();
      else if (reason !== 'bye') conn.close();
    }
    session.log.info({ reason }, 'session closed');
    for (const l of this.#listeners) l.sessionClosed?.(session, reason);
  }

  /** Fresh id data and encoded ids for a session that has no hello of its own (virtual sessions). */
  newSessionIds(backendId: string): { idData: SessionIdData; privateId: string; publicId: string } {
    const idData = { sid: this.#nextSid++, created: Date.now(), backendId, node: this.#nodeId };
    return { idData, privateId: this.#deps.codec.encode('private-session', idData), publicId: this.#deps.codec.encode('public-session', idData) };
  }

  /**
   * Registers a session created without a hello (virtual sessions): public-id lookups and the
   * session metrics. It ends through {@link closeSession} like any other session.
   */
  registerSession(session: ClientSession): void {
    this.#deps.sessions.add(session);
    const labels = { backend: session.backend.id, clienttype: session.clientType };
    this.#deps.metrics.sessions.inc(labels);
    this.#deps.metrics.sessionsTotal.inc(labels);
  }

  /** Graceful shutdown: every socket gets 1001 Going Away; sessions end. */
  shutdown(): void {
    for (const session of [...this.#deps.sessions.all()]) this.closeSession(session, 'shutdown');
    for (const conn of [...this.#peers.keys()]) conn.close(CloseCode.GoingAway, 'server shutting down');
  }

  #welcomeFrame(): string {
    const features = this.#deps.features.welcome;
    if (this.#welcome?.features !== features) this.#welcome = { features, frame: welcomeFrame(this.#deps.version, features) };
    return this.#welcome.frame;
  }

  #armHelloTimer(peer: Peer): void {
    clearTimeout(peer.helloTimer);
    peer.helloTimer = setTimeout(() => {
      if (peer.session || peer.conn.closed) return;
      peer.conn.log.info('no hello in time');
      peer.conn.sendAndClose(byeFrame(undefined, 'hello_timeout'));
    }, this.#deps.timeouts.helloMs);
    peer.helloTimer.unref();
  }

  /**
   * One frame from a client. Whatever a handler throws is caught here, per message: the sender
   * gets one `internal_error` and the server goes on (a throw out of a `ws` listener would end
   * the process with every session on it).
   */
  #onText(conn: ClientConnection, text: string): void {
    const peer = this.#peers.get(conn);
    if (!peer) return;
    if (peer.relay) {
      // The session lives on another node: the frame goes there unparsed.
      peer.relay.send(text);
      return;
    }
    let id: string | undefined;
    try {
      const parsed = parseClientMessage(text);
      if (!parsed.ok) {
        conn.log.debug({ err: parsed.error.reason ?? parsed.error.message }, 'invalid message');
        conn.sendText(errorFrame(parsed.id, parsed.error.toPayload()));
        return;
      }
      id = parsed.value.id;
      this.#dispatch(peer, parsed.value);
    } catch (err) {
      this.#deps.metrics.messageFailuresTotal.inc();
      conn.log.error({ err }, 'message handler failed');
      conn.sendText(errorFrame(id, new SignalingError('internal_error', INTERNAL_ERROR_TEXT).toPayload()));
    }
  }

  #dispatch(peer: Peer, message: ClientMessage | UnknownClientMessage): void {
    const conn = peer.conn;
    const session = peer.session;
    // Unknown types are not counted: their names would be attacker-chosen label values.
    if (!('unknown' in message)) this.#deps.metrics.serverMessagesTotal.inc({ type: message.type });
    if (!session) {
      // Anything but a hello, unknown and server-only types included, as upstream.
      if (message.type !== 'hello' || 'unknown' in message) {
        conn.sendText(errorFrame(message.id, signalingError('hello_expected').toPayload()));
        return;
      }
      if (peer.helloPending) {
        conn.log.debug('hello already in progress, ignoring another');
        return;
      }
      void this.#hello(peer, message);
      return;
    }
    if ('unknown' in message) {
      session.log.debug({ type: message.type }, 'ignoring unknown message type');
      return;
    }
    switch (message.type) {
      case 'hello':
        session.log.debug('ignoring hello on an authenticated connection');
        return;
      case 'bye':
        conn.sendAndClose(byeFrame(message.id));
        this.closeSession(session, 'bye');
        return;
      default: {
        if (this.#interceptor?.(session, message)) return;
        const handler = this.#handlers.get(message.type);
        if (handler) handler(session, message);
        else session.log.debug({ type: message.type }, 'no handler for message type');
      }
    }
  }

  async #hello(peer: Peer, message: HelloClientMessage): Promise<void> {
    peer.helloPending = true;
    // The hello arrived in time: however long Nextcloud takes to answer, the client is not cut
    // off meanwhile (as upstream); a failed hello re-arms the timer below.
    clearTimeout(peer.helloTimer);
    peer.helloTimer = undefined;
    try {
      const hello = message.hello;
      if (hello.resumeid !== undefined) await this.#resume(peer, message, hello.version, hello.resumeid);
      else await this.#newSession(peer, message);
    } catch (err) {
      const error = err instanceof SignalingError ? err : new SignalingError('internal_error', (err as Error).message);
      if (!(err instanceof SignalingError)) peer.conn.log.error({ err }, 'hello failed unexpectedly');
      peer.conn.sendText(errorFrame(message.id, error.toPayload()));
      if (!peer.session) this.#armHelloTimer(peer);
    } finally {
      peer.helloPending = false;
    }
  }

  async #newSession(peer: Peer, message: HelloClientMessage): Promise<void> {
    const hello = message.hello;
    if (hello.resumeid !== undefined) return;
    const auth = await this.#deps.authenticator.authenticate(hello, peer.conn.info.ip);
    const { backend } = auth;
    if (peer.conn.closed) return; // the client went away while Nextcloud answered
    if (auth.clientType === 'client' && backend.sessionLimit > 0 && this.#deps.sessions.clientCount(backend.id) >= backend.sessionLimit) {
      this.#deps.metrics.sessionLimitExceededTotal.inc({ backend: backend.id });
      throw signalingError('session_limit_exceeded');
    }
    const cluster = this.#deps.cluster;
    if (auth.clientType === 'client' && backend.sessionLimit > 0 && cluster?.hasPeers) {
      // The limit is for the whole cluster (upstream asks every peer, 1 s).
      const remote = await cluster.remoteSessionCount(auth.backendUrl);
      if (peer.conn.closed) return;
      if (this.#deps.sessions.clientCount(backend.id) + remote >= backend.sessionLimit) {
        this.#deps.metrics.sessionLimitExceededTotal.inc({ backend: backend.id });
        throw signalingError('session_limit_exceeded');
      }
    }
    const idData = { sid: this.#nextSid++, created: Date.now(), backendId: backend.id, node: this.#nodeId };
    const publicId = this.#deps.codec.encode('public-session', idData);
    const session = new ClientSession({
      privateId: this.#deps.codec.encode('private-session', idData),
      publicId,
      idData,
      backend,
      backendUrl: auth.backendUrl,
      clientType: auth.clientType,
      userId: auth.userId,
      user: auth.user,
      helloVersion: hello.version,
      features: hello.features ?? [],
      pendingBudget: this.#deps.pendingBudget,
      // Bound, not a pino child: one per session adds up (see BoundLogger).
      log: new BoundLogger(this.#deps.log, { session: publicId, backend: backend.id }),
    });
    this.#deps.sessions.add(session);
    const labels = { backend: backend.id, clienttype: session.clientType };
    this.#deps.metrics.sessions.inc(labels);
    this.#deps.metrics.sessionsTotal.inc(labels);
    this.#bind(peer, session);
    peer.conn.sendText(helloFrame(message.id, hello.version, session, this.#serverInfo(session)));
    session.log.info({ userid: session.userId, clienttype: session.clientType, ip: peer.conn.info.ip }, 'session created');
    for (const l of this.#listeners) l.sessionCreated?.(session);
  }

  async #resume(peer: Peer, message: HelloClientMessage, version: '1.0' | '2.0', resumeId: string): Promise<void> {
    const id = message.id;
    const ip = peer.conn.info.ip;
    const throttle = this.#deps.throttler.check(ip, 'HelloResume');
    if (throttle.blocked) throw signalingError('too_many_requests');
    const session = this.#deps.sessions.byPrivateId(resumeId);
    if (!session || session.closed) {
      if (await this.#resumeRemote(peer, message, resumeId)) return;
      this.#deps.metrics.sessionsResumeFailedTotal.inc();
      // An id we issued that has since expired is an honest late reconnect, not guessing.
      if (this.#deps.codec.decode('private-session', resumeId) === undefined) await throttle.failed();
      throw signalingError('no_such_session');
    }
    if (peer.conn.closed) return;
    const previous = session.connection;
    if (previous && previous !== peer.conn) {
      const old = this.#peers.get(previous);
      if (old) old.session = undefined;
      previous.sendAndClose(byeFrame(undefined, 'session_resumed'));
    }
    const pending = this.#bind(peer, session);
    peer.conn.sendText(helloFrame(id, version, session, this.#serverInfo(session)));
    for (const frame of pending) peer.conn.sendText(frame);
    this.#deps.metrics.sessionsResumeTotal.inc({ backend: session.backend.id, clienttype: session.clientType });
    session.log.info({ replayed: pending.length, ip }, 'session resumed');
    for (const l of this.#listeners) l.sessionResumed?.(session, pending);
  }

  /**
   * Resume of a session that lives on another node (upstream `RemoteSession`): a valid id none
   * of ours is looked up on the peers; when one has it, this socket is relayed there for good
   * and the hello is sent on. A relay that fails before answering counts as `no_such_session`.
   */
  async #resumeRemote(peer: Peer, message: HelloClientMessage, resumeId: string): Promise<boolean> {
    const cluster = this.#deps.cluster;
    if (!cluster?.hasPeers || this.#deps.codec.decode('private-session', resumeId) === undefined) return false;
    const relay = await cluster.openRemoteSession(resumeId, peer.conn.info);
    if (relay === undefined) return false;
    const conn = peer.conn;
    if (conn.closed || !this.#peers.has(conn)) {
      relay.close();
      return true;
    }
    clearTimeout(peer.helloTimer);
    peer.helloTimer = undefined;
    peer.relay = relay;
    let answered = false;
    relay.on('message', (frame) => {
      answered = true;
      conn.sendText(frame);
    });
    relay.on('close', (err) => {
      if (err) conn.log.info({ err: err.message }, 'relay to the session on another node ended');
      if (answered) {
        conn.close();
        return;
      }
      // Nothing came back: the resume failed; the client may send another hello.
      peer.relay = undefined;
      this.#deps.metrics.sessionsResumeFailedTotal.inc();
      conn.sendText(errorFrame(message.id, signalingError('no_such_session').toPayload()));
      this.#armHelloTimer(peer);
    });
    relay.send(JSON.stringify(message));
    conn.log.info({ target: relay.target }, 'session lives on another node, relaying');
    return true;
  }

  /** Ties socket and session together; returns what the session queued while detached. */
  #bind(peer: Peer, session: ClientSession): Frame[] {
    clearTimeout(peer.helloTimer);
    peer.helloTimer = undefined;
    peer.session = session;
    return session.attach(peer.conn);
  }

  #serverInfo(session: ClientSession): { version: string; features: readonly string[] } {
    const features = session.clientType === 'internal' ? this.#deps.features.internal : this.#deps.features.client;
    return { version: this.#deps.version, features };
  }

  #onClose(conn: ClientConnection): void {
    const peer = this.#peers.get(conn);
    if (!peer) return;
    this.#peers.delete(conn);
    clearTimeout(peer.helloTimer);
    peer.relay?.close();
    const session = peer.session;
    if (session && !session.closed) {
      session.detach(conn, this.#deps.timeouts.resumeWindowMs, (overflow) => {
        if (overflow) {
          this.#deps.metrics.pendingOverflowsTotal.inc();
          this.#deps.metrics.pendingDroppedMessagesTotal.inc(overflow.messages);
          this.#deps.metrics.pendingDroppedBytesTotal.inc(overflow.bytes);
        }
        this.closeSession(session, 'expired');
      });
      session.log.debug('connection lost, session waits for resume');
    }
  }
}
