import WebSocket from 'ws';
import { parseJsonLimited, ServerFeature, signalingError, type ClientMessage, type ErrorPayload, type RoomClientMessage, type RoomFederationPayload } from '@talk-signaling/protocol';
import { Backoff, type Logger } from '@talk-signaling/runtime';
import type { Router } from '../delivery/router';
import { errorFrame } from '../delivery/server-frames';
import type { ClientSession } from '../session/client-session';
import { DEFAULT_FEDERATION_BUDGET, type FederationBudget, type FederationMetrics } from './federation-budget';
import { translateIncoming, translateOutgoing, type FederationIds } from './translate';

/* eslint-disable @typescript-eslint/no-explicit-any -- server messages of the remote server are free-form JSON */

/** Upstream `initialFederationReconnectInterval` / `maxFederationReconnectInterval`. */
export const FEDERATION_RECONNECT_INITIAL_MS = 100;
export const FEDERATION_RECONNECT_MAX_MS = 8_000;
/** Ping period towards the remote server; a connection without pong for a whole period is dropped. */
const PING_INTERVAL_MS = 54_000;
/** Upstream `maxMessageSize` for the federation connection. */
const MAX_MESSAGE_BYTES = 64 * 1024;
const FEATURES_HEADER = 'x-spreed-signaling-features';
/** TLS verification failures of Node (`err.code`), reported as `certificate_verification_error`. */
const CERT_ERRORS = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/;

/** Why a connection to the remote server could not be made: `federation_error` with these details. */
export class FederationConnectError extends Error {
  constructor(readonly details: { code: string; message: string }) {
    super(details.message);
  }
}

export interface FederationClientOptions {
  /** The local session this client acts for. */
  session: ClientSession;
  /** How frames of the remote server reach the local session. */
  router: Router;
  /** The `room` request with `federation` (its `id` is echoed on the answer). */
  message: RoomClientMessage;
  /** `[federation] timeout` in ms: connection setup. */
  timeoutMs: number;
  /** `[federation] skipverify`. */
  skipVerify: boolean;
  log: Logger;
  /** Reconnect back-off (default upstream's 100 ms doubling to 8 s). */
  reconnect?: { initialMs: number; maxMs: number };
  /** Called once when the client is closed for good. */
  onClosed: (client: FederationClient) => void;
  /** Bounds of what the connection holds (default {@link DEFAULT_FEDERATION_BUDGET}). */
  budget?: Readonly<FederationBudget>;
  /** Counters of dropped messages and cut-off connections. */
  metrics?: FederationMetrics;
}

/**
 * Lifecycle of the connection to the remote signaling server:
 *
 * ```
 *  connecting ──open──> hello ──hello ok──> ready ──socket lost──> interrupted
 *       │                 │  no_such_session: fresh hello          │  backoff, dial again
 *       │                 │  other error: error to client, closed  ▼
 *    failure           closed <──── leave answered / bye / close ── hello (resume)
 * ```
 *
 * `federation_interrupted` is sent when a ready connection is lost, `federation_resumed` with
 * `resumed: true` when the remote session was resumed, `false` (then a fresh join) when it was
 * gone and a new one had to be created.
 */
export type FederationState = 'connecting' | 'hello' | 'ready' | 'interrupted' | 'closed';

/**
 * Our server as a client of a remote signaling server, on behalf of one local session that
 * joined a federated room (upstream `FederationClient`).
 */
export class FederationClient {
  readonly session: ClientSession;
  readonly url: string;
  #state: FederationState = 'connecting';
  #opts: FederationClientOptions;
  #message: RoomClientMessage;
  /** Id of the join request until the remote answered it (upstream clears it then). */
  #joinId: string | undefined;
  #ws: WebSocket | undefined;
  #helloId = '';
  #resumeId: string | undefined;
  #remoteSessionId: string | undefined;
  /** Set after the first loss of the connection (upstream `reconnecting`). */
  #reconnecting = false;
  #closeOnLeave = false;
  /** Messages of the local client waiting for the connection, with their serialised size. */
  #pending: { message: ClientMessage; bytes: number }[] = [];
  #pendingBytes = 0;
  readonly #budget: Readonly<FederationBudget>;
  readonly #backoff: Backoff;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #pingTimer: NodeJS.Timeout | undefined;
  #leaveTimer: NodeJS.Timeout | undefined;
  #log: Logger;

  constructor(opts: FederationClientOptions) {
    this.#opts = opts;
    this.session = opts.session;
    this.#message = opts.message;
    this.#joinId = opts.message.id;
    this.url = websocketUrl(this.federation.signaling);
    this.#backoff = new Backoff({
      initial: opts.reconnect?.initialMs ?? FEDERATION_RECONNECT_INITIAL_MS,
      max: opts.reconnect?.maxMs ?? FEDERATION_RECONNECT_MAX_MS,
    });
    this.#log = opts.log.child({ federation: this.url, session: opts.session.publicId });
    this.#budget = opts.budget ?? DEFAULT_FEDERATION_BUDGET;
  }

  get state(): FederationState {
    return this.#state;
  }

  get federation(): RoomFederationPayload {
    return this.#message.room.federation!;
  }

  /** Room id the local client knows. */
  get roomId(): string {
    return this.#message.room.roomid;
  }

  /** Room id on the remote server. */
  get remoteRoomId(): string {
    return this.federation.roomid || this.#message.room.roomid;
  }

  /** Nextcloud's room session id the client sent (pinged to the local Nextcloud). */
  get roomSessionId(): string | undefined {
    return this.#message.room.sessionid;
  }

  /** Our session's public id on the remote server, once its hello was answered. */
  get remoteSessionId(): string | undefined {
    return this.#remoteSessionId;
  }

  /** Same remote signaling server and Nextcloud: the connection can join another room (upstream `CanReuse`). */
  canReuse(federation: RoomFederationPayload): boolean {
    const current = this.federation;
    return this.#state !== 'closed' && current.url === federation.url && current.signaling === federation.signaling;
  }

  /**
   * Opens the first connection. Resolves once the WebSocket is up and the remote announced
   * `federation` (the hello and the join follow asynchronously; their errors reach the client
   * as error replies to the join). Rejects with `federation_unsupported` (`SignalingError`) or
   * {@link FederationConnectError}.
   */
  async start(): Promise<void> {
    await this.#dial();
  }

  /** Joins another room through the same connection (upstream `ChangeRoom`). */
  changeRoom(message: RoomClientMessage): void {
    this.#message = message;
    this.#joinId = message.id;
    if (this.#state === 'ready') this.#sendJoin();
    // Otherwise the join is sent when the hello is answered.
  }

  /** Relays one message of the local client (everything except hello, bye and room). */
  proxy(message: ClientMessage): void {
    if (this.#state === 'closed') return;
    if (this.#state === 'ready' && this.#sendRaw(translateOutgoing(message, this.#ids()))) return;
    this.#queue(message);
  }

  /** Keeps a message for when the connection is back; past the budget the oldest go. */
  #queue(message: ClientMessage): void {
    const bytes = JSON.stringify(message).length;
    const budget = this.#budget;
    let droppedMessages = 0;
    let droppedBytes = 0;
    while (this.#pending.length > 0 && (this.#pending.length >= budget.maxPendingMessages || this.#pendingBytes + bytes > budget.maxPendingBytes)) {
      const oldest = this.#pending.shift()!;
      this.#pendingBytes -= oldest.bytes;
      droppedMessages++;
      droppedBytes += oldest.bytes;
    }
    if (droppedMessages > 0) {
      this.#opts.metrics?.pendingDroppedMessagesTotal.inc(droppedMessages);
      this.#opts.metrics?.pendingDroppedBytesTotal.inc(droppedBytes);
      this.#log.warn({ droppedMessages, droppedBytes }, 'federation queue full, dropped the oldest messages');
    }
    this.#pending.push({ message, bytes });
    this.#pendingBytes += bytes;
  }

  /**
   * Leaves the remote room with the client's own request (its answer is relayed) and closes
   * once the remote confirmed; closes right away when not connected.
   */
  leave(message: RoomClientMessage): void {
    if (this.#state !== 'ready') {
      this.close();
      return;
    }
    this.#closeOnLeave = true;
    this.#sendRaw(message);
    this.#leaveTimer = setTimeout(() => this.close(), this.#opts.timeoutMs);
    this.#leaveTimer.unref();
  }

  /** Ends the remote session (bye) and the connection for good. Idempotent. */
  close(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    clearTimeout(this.#reconnectTimer);
    clearTimeout(this.#leaveTimer);
    clearInterval(this.#pingTimer);
    this.#pending = [];
    this.#pendingBytes = 0;
    const ws = this.#ws;
    this.#ws = undefined;
    if (ws) {
      if (ws.readyState === WebSocket.OPEN) {
        ws.send(JSON.stringify({ type: 'bye', bye: {} }));
        ws.close(1000);
      } else ws.terminate();
    }
    this.#log.debug('federation connection closed');
    this.#opts.onClosed(this);
  }

  #ids(): FederationIds {
    return {
      localSessionId: this.session.publicId,
      remoteSessionId: this.#remoteSessionId,
      roomId: this.roomId,
      remoteRoomId: this.remoteRoomId,
      localCloudUrl: this.session.backendUrl,
      remoteCloudUrl: this.federation.url,
    };
  }

  /**
   * Connects and checks that the remote announces `federation` in its upgrade response; the
   * socket is attached in the `open` event itself, so that no early frame (the welcome) is missed.
   */
  #dial(): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url, {
        handshakeTimeout: this.#opts.timeoutMs,
        rejectUnauthorized: !this.#opts.skipVerify,
        maxPayload: MAX_MESSAGE_BYTES,
        perMessageDeflate: false,
        followRedirects: false,
      });
      let settled = false;
      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        ws.removeAllListeners();
        ws.on('error', () => undefined);
        ws.terminate();
        reject(err);
      };
      ws.once('upgrade', (res) => {
        const header = res.headers[FEATURES_HEADER];
        const features = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').map((f) => f.trim());
        if (!features.includes(ServerFeature.Federation)) fail(signalingError('federation_unsupported'));
      });
      ws.once('unexpected-response', (_req, res) => {
        fail(new FederationConnectError({ code: 'network_error', message: `unexpected HTTP status ${res.statusCode} from ${this.url}` }));
      });
      ws.once('error', (err: Error & { code?: string }) => {
        const code = err.code !== undefined && CERT_ERRORS.test(err.code) ? 'certificate_verification_error' : 'network_error';
        fail(new FederationConnectError({ code, message: err.message }));
      });
      ws.once('open', () => {
        if (settled) return;
        if (this.#state === 'closed') {
          fail(new FederationConnectError({ code: 'closed', message: 'federation client closed' }));
          return;
        }
        settled = true;
        ws.removeAllListeners();
        this.#ws = ws;
        this.#attach(ws);
        resolve();
      });
    });
  }

  #attach(ws: WebSocket): void {
    this.#state = 'hello';
    let alive = true;
    ws.on('pong', () => (alive = true));
    ws.on('error', (err) => this.#log.debug({ err: err.message }, 'federation connection error'));
    ws.on('message', (data, isBinary) => {
      if (isBinary || this.#ws !== ws) return;
      const json = parseJsonLimited(rawText(data));
      if (!json.ok) {
        this.#log.warn({ reason: json.reason }, 'undecodable message from the remote signaling server');
        return;
      }
      const msg = json.value;
      if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return;
      // One bad message from the peer is logged and forgotten; the relay goes on.
      try {
        this.#onMessage(msg as Record<string, any>);
      } catch (err) {
        this.#log.error({ err }, 'message from the remote signaling server could not be handled');
      }
    });
    ws.on('close', () => {
      if (this.#ws === ws) this.#lost();
    });
    clearInterval(this.#pingTimer);
    this.#pingTimer = setInterval(() => {
      if (!alive) {
        ws.terminate();
        return;
      }
      alive = false;
      ws.ping();
    }, PING_INTERVAL_MS);
    this.#pingTimer.unref();
  }

  #onMessage(msg: Record<string, any>): void {
    if (this.#state === 'closed') return;
    if (this.#state !== 'ready') {
      if (msg['type'] === 'welcome') this.#onWelcome(msg);
      else this.#onHello(msg);
      return;
    }
    const info = translateIncoming(msg, this.#ids());
    if (msg['type'] === 'room' && this.#joinId !== undefined && msg['id'] === this.#joinId) this.#joinId = undefined;
    // Relayed as received (ids translated): a frame of its own, not one of ours.
    this.#opts.router.send(this.session, JSON.stringify(msg));
    const leaveDone = msg['type'] === 'room' && msg['room']?.['roomid'] === '';
    if (this.#closeOnLeave && (info.selfLeft || leaveDone)) this.close();
  }

  #onWelcome(msg: Record<string, any>): void {
    const features: unknown = msg['welcome']?.['features'];
    if (!Array.isArray(features) || !features.includes(ServerFeature.Federation)) {
      this.#closeWithError(signalingError('federation_unsupported').toPayload());
      return;
    }
    this.#sendHello();
  }

  #sendHello(): void {
    this.#helloId = Math.random().toString(36).slice(2, 10);
    const hello: Record<string, unknown> = { version: '2.0' };
    if (this.session.features.size > 0) hello['features'] = [...this.session.features];
    if (this.#resumeId !== undefined) hello['resumeid'] = this.#resumeId;
    else hello['auth'] = { type: 'federation', url: this.federation.url, params: { token: this.federation.token } };
    this.#sendRaw({ id: this.#helloId, type: 'hello', hello });
  }

  #onHello(msg: Record<string, any>): void {
    this.#backoff.reset();
    if (msg['id'] !== this.#helloId) {
      this.#log.debug({ type: msg['type'] }, 'unexpected message before the hello answer');
      return;
    }
    this.#helloId = '';
    if (msg['type'] === 'error') {
      const error = msg['error'] as ErrorPayload | undefined;
      if (error?.code === 'no_such_session') {
        // The remote lost our session (e.g. restarted): start a new one; the token may have expired meanwhile.
        this.#resumeId = undefined;
        this.#pending = [];
        this.#pendingBytes = 0;
        this.#sendHello();
        return;
      }
      this.#log.info({ error }, 'remote signaling server refused the federation hello');
      this.#closeWithError(error ?? signalingError('federation_error').toPayload());
      return;
    }
    if (msg['type'] !== 'hello' || typeof msg['hello']?.['sessionid'] !== 'string') {
      this.#sendHello();
      return;
    }
    this.#remoteSessionId = msg['hello']['sessionid'] as string;
    this.#state = 'ready';
    if (this.#resumeId === undefined) {
      this.#resumeId = typeof msg['hello']['resumeid'] === 'string' ? (msg['hello']['resumeid'] as string) : undefined;
      if (this.#reconnecting) this.#event({ type: 'federation_resumed', resumed: false });
      this.#sendJoin();
    } else {
      this.#event({ type: 'federation_resumed', resumed: true });
    }
    const pending = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    for (const { message } of pending) this.proxy(message);
  }

  #sendJoin(): void {
    const room: Record<string, unknown> = { roomid: this.remoteRoomId };
    if (this.#message.room.sessionid !== undefined) room['sessionid'] = this.#message.room.sessionid;
    this.#sendRaw(this.#joinId === undefined ? { type: 'room', room } : { id: this.#joinId, type: 'room', room });
  }

  #event(event: Record<string, unknown>): void {
    this.#opts.router.toLocal(this.session, { type: 'event', event: { target: 'room', ...event } });
  }

  /** Fails the join: the client gets the error (with the join's id while unanswered), all ends. */
  #closeWithError(error: ErrorPayload): void {
    const id = this.#joinId;
    this.close();
    this.#opts.router.send(this.session, errorFrame(id, error));
  }

  /**
   * Writes one message to the remote server; false when it could not be written: not open, or
   * the remote stopped reading (more than the budget unsent), in which case the connection is
   * cut and re-established like after any interruption.
   */
  #sendRaw(message: object): boolean {
    const ws = this.#ws;
    if (ws?.readyState !== WebSocket.OPEN) return false;
    if (ws.bufferedAmount > this.#budget.maxBufferedBytes) {
      this.#log.warn({ buffered: ws.bufferedAmount }, 'remote signaling server does not read, cutting the connection');
      this.#opts.metrics?.slowConnectionsTotal.inc();
      ws.terminate();
      this.#lost();
      return false;
    }
    ws.send(JSON.stringify(message));
    return true;
  }

  /** The socket is gone without us closing it: tell the client once, then reconnect with back-off. */
  #lost(): void {
    if (this.#state === 'closed') return;
    clearInterval(this.#pingTimer);
    this.#ws = undefined;
    if (this.#closeOnLeave) {
      this.close();
      return;
    }
    if (this.#state === 'ready') this.#event({ type: 'federation_interrupted' });
    this.#state = 'interrupted';
    this.#reconnecting = true;
    this.#remoteSessionId = this.#resumeId === undefined ? undefined : this.#remoteSessionId;
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    clearTimeout(this.#reconnectTimer);
    const delay = this.#backoff.next();
    this.#log.info({ delayMs: delay }, 'federation connection lost, reconnecting');
    this.#reconnectTimer = setTimeout(() => void this.#reconnect(), delay);
    this.#reconnectTimer.unref();
  }

  async #reconnect(): Promise<void> {
    if (this.#state === 'closed') return;
    try {
      await this.#dial();
    } catch (err) {
      if (this.#state !== 'interrupted') return;
      this.#log.debug({ err: (err as Error).message }, 'federation reconnect failed');
      this.#scheduleReconnect();
    }
  }
}

/** `http(s)://host/path/` → `ws(s)://host/path/spreed` (upstream appends `spreed` to the signaling URL). */
export function websocketUrl(signaling: string): string {
  const url = new URL(signaling);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  return `${url.toString()}spreed`;
}

/** A WebSocket message as one buffer (ws hands over fragments as an array). */
function rawText(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
