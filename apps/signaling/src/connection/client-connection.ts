import type { ClientTraffic } from './client-traffic';
import type { Logger } from '@talk-signaling/runtime';
import { BoundLogger } from './bound-logger';
import type { ClientSocket, SocketSink } from './client-socket';

/** Facts about the peer, fixed at upgrade time. */
export interface ConnectionInfo {
  /** Real client address (trusted-proxy aware). */
  ip: string;
  userAgent: string;
  /** ISO country of `ip` or a pseudo-country (`loopback`, `unknown-country`, ...; see geoip/); the proxy MCU places streams near it. */
  country?: string;
}

/** Liveness timing (upstream: ping every 54 s, 60 s pong wait; fact sheet section 0). */
export interface Heartbeat {
  pingIntervalMs: number;
  /** Read deadline: how long a connection may send nothing (no pong, no frame). */
  pongWaitMs: number;
}

export interface ConnectionHandler {
  /** One text frame, as received. Called in order; never for binary frames. */
  onText(conn: ClientConnection, text: string): void;
  onBinary(conn: ClientConnection): void;
  /** The socket is gone (either side); called exactly once. */
  onClose(conn: ClientConnection, code: number): void;
}

/** Close codes we send. */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  /** Ours: the client did not read its messages; it may reconnect and resume. */
  SlowConsumer: 1013,
  InternalError: 1011,
} as const;

let nextConnectionId = 1;

/** Pong payloads claiming a longer round trip are not ours (or not honest) and are ignored. */
const MAX_RTT_MS = 60 * 60 * 1000;

/**
 * One client connection: text frames in and out, liveness pings, a bounded write queue, over a
 * {@link ClientSocket} (our WebSocket, or a relay from another node).
 */
export class ClientConnection implements SocketSink {
  readonly id = nextConnectionId++;
  readonly info: ConnectionInfo;
  readonly log: Logger;
  readonly #socket: ClientSocket;
  readonly #handler: ConnectionHandler;
  readonly #maxBufferedBytes: number;
  readonly #onSlow: (bufferedBytes: number) => void;
  /** Set once we stop writing (close started by us or by the peer). Checked on every send. */
  #closing = false;
  /** A frame arrived since the read deadline was last armed (checked lazily when it fires). */
  #readSinceArmed = false;
  /** Pings every ping period, from the first one on accept (upstream's per-client ticker). */
  #pingTimer: NodeJS.Timeout | undefined;
  /** The read deadline: fires a pong wait after the last pong (or accept) unless frames came. */
  #deadline: NodeJS.Timeout | undefined;
  /** A peer that never completes the closing handshake must not keep the socket open. */
  #terminateTimer: NodeJS.Timeout | undefined;
  readonly #heartbeat: Heartbeat;
  readonly #traffic: ClientTraffic | undefined;

  constructor(
    socket: ClientSocket,
    info: ConnectionInfo,
    handler: ConnectionHandler,
    opts: { log: Logger; maxBufferedBytes: number; onSlowConsumer: (bufferedBytes: number) => void; heartbeat: Heartbeat; traffic?: ClientTraffic },
  ) {
    this.#socket = socket;
    this.info = info;
    this.#handler = handler;
    this.log = new BoundLogger(opts.log, { conn: this.id });
    this.#maxBufferedBytes = opts.maxBufferedBytes;
    this.#onSlow = opts.onSlowConsumer;
    this.#heartbeat = opts.heartbeat;
    this.#traffic = opts.traffic;
    socket.attach(this);
  }

  /** SocketSink */
  onSocketText(text: string, bytes: number): void {
    this.#readSinceArmed = true;
    const traffic = this.#traffic;
    if (traffic) {
      traffic.messagesIn++;
      traffic.bytesIn += bytes;
    }
    this.#handler.onText(this, text);
  }

  /** SocketSink */
  onSocketBinary(): void {
    this.#readSinceArmed = true;
    this.#handler.onBinary(this);
  }

  /** SocketSink: pongs are rare (one per ping period); they move the deadline exactly, as upstream's do. */
  onSocketPong(payload: Buffer): void {
    this.#deadline?.refresh();
    // Our pings carry the send time in ns (as upstream's): the round trip for the RTT metric.
    // A client may send any pong: only a time from the last hour and not in the future counts.
    const rttMs = Date.now() - Number(payload.toString('latin1')) / 1e6;
    if (this.#traffic && rttMs >= 0 && rttMs < MAX_RTT_MS) this.#traffic.rtt(rttMs);
  }

  /** SocketSink */
  onSocketError(message: string): void {
    this.log.debug({ err: message }, 'websocket error');
  }

  /** SocketSink */
  onSocketClose(code: number): void {
    this.#closing = true;
    clearInterval(this.#pingTimer);
    clearTimeout(this.#deadline);
    clearTimeout(this.#terminateTimer);
    this.#handler.onClose(this, code);
  }

  get closed(): boolean {
    return this.#closing;
  }

  /**
   * Writes one text frame (a `Buffer` is a pre-encoded fan-out payload, sent as text without
   * re-encoding). Returns false when the frame was not written because the connection is
   * closing, or because the peer stopped reading and the connection was cut.
   */
  sendText(text: string | Buffer): boolean {
    if (this.#closing) return false;
    const buffered = this.#socket.bufferedAmount;
    if (buffered > this.#maxBufferedBytes) {
      this.log.warn({ buffered }, 'slow consumer, closing connection');
      this.#onSlow(buffered);
      this.close(CloseCode.SlowConsumer, 'slow consumer');
      return false;
    }
    const traffic = this.#traffic;
    if (traffic) {
      traffic.messagesOut++;
      traffic.bytesOut += typeof text === 'string' ? Buffer.byteLength(text) : text.length;
    }
    this.#socket.sendText(text);
    return true;
  }

  /**
   * Sends a final frame, then an empty close frame (clients observe 1005, like upstream after a
   * `bye` or a disinvite).
   */
  sendAndClose(text: string): void {
    if (this.#closing) return;
    this.#socket.sendText(text);
    this.closeWithoutStatus();
  }

  /** Closes with an empty close frame (no status code), as upstream does after its last frame. */
  closeWithoutStatus(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#socket.close();
    this.#terminateLater();
  }

  close(code: number = CloseCode.Normal, reason = ''): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#socket.close(code, reason);
    this.#terminateLater();
  }

  /**
   * Starts liveness checks as upstream does per connection: a ping now and every ping period
   * (payload: send time in ns, for RTT), and a read deadline of one pong wait that starts now
   * and moves with every pong. A connection with nothing read (no pong, no frame) for a whole
   * pong wait is dropped. Each connection has its own timers, so a fresh connection always has
   * the full pong wait to answer its first ping.
   */
  startHeartbeat(): void {
    if (this.#closing || this.#pingTimer !== undefined) return;
    const { pingIntervalMs, pongWaitMs } = this.#heartbeat;
    this.#ping();
    this.#pingTimer = setInterval(() => this.#ping(), pingIntervalMs);
    this.#pingTimer.unref();
    this.#deadline = setTimeout(() => this.#deadlinePassed(), pongWaitMs);
    this.#deadline.unref();
  }

  #ping(): void {
    if (this.#closing) return;
    this.#socket.ping(String(Date.now() * 1e6));
  }

  /** Frames only set a flag (no timer work per frame); the deadline re-arms if one came. */
  #deadlinePassed(): void {
    if (this.#closing) return;
    if (this.#readSinceArmed) {
      this.#readSinceArmed = false;
      this.#deadline!.refresh();
      return;
    }
    this.log.info('nothing read within the pong wait, dropping connection');
    this.#closing = true;
    clearInterval(this.#pingTimer);
    this.#socket.terminate();
  }

  #terminateLater(): void {
    this.#terminateTimer = setTimeout(() => this.#socket.terminate(), 5_000);
    this.#terminateTimer.unref();
  }
}
