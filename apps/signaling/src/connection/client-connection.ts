import type { Socket } from 'node:net';
import type { ClientTraffic } from './client-traffic';
import type { WebSocket, RawData } from 'ws';
import type { Logger } from '@talk-signaling/runtime';
import { BoundLogger } from './bound-logger';

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

/**
 * One client WebSocket: text frames in and out, liveness pings, a bounded write queue.
 * Nothing else in the server touches `ws`.
 */
export class ClientConnection {
  readonly id = nextConnectionId++;
  readonly info: ConnectionInfo;
  readonly log: Logger;
  readonly #ws: WebSocket;
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
  /**
   * The TCP socket under `ws`, when text frames may be written to it directly (see
   * {@link writeFrame}); undefined means every frame goes through `ws.send`.
   */
  readonly #socket: Socket | undefined;
  readonly #heartbeat: Heartbeat;
  readonly #traffic: ClientTraffic | undefined;

  constructor(
    ws: WebSocket,
    info: ConnectionInfo,
    handler: ConnectionHandler,
    opts: { log: Logger; maxBufferedBytes: number; onSlowConsumer: (bufferedBytes: number) => void; heartbeat: Heartbeat; traffic?: ClientTraffic },
  ) {
    this.#ws = ws;
    this.info = info;
    this.log = new BoundLogger(opts.log, { conn: this.id });
    this.#maxBufferedBytes = opts.maxBufferedBytes;
    this.#onSlow = opts.onSlowConsumer;
    this.#socket = rawSocketOf(ws);
    this.#heartbeat = opts.heartbeat;
    const traffic = opts.traffic;
    this.#traffic = traffic;
    ws.on('message', (data: RawData, isBinary: boolean) => {
      this.#readSinceArmed = true;
      if (isBinary) {
        handler.onBinary(this);
        return;
      }
      const text = rawToString(data);
      if (traffic) {
        traffic.messagesIn++;
        traffic.bytesIn += Buffer.isBuffer(data) ? data.length : Buffer.byteLength(text);
      }
      handler.onText(this, text);
    });
    // Pongs are rare (one per ping period): they move the deadline exactly, as upstream's do.
    ws.on('pong', (payload: Buffer) => {
      this.#deadline?.refresh();
      // Our pings carry the send time in ns (as upstream's): the round trip for the RTT metric.
      const sentNs = Number(payload.toString('latin1'));
      if (traffic && sentNs > 0) traffic.rtt(Date.now() - sentNs / 1e6);
    });
    ws.on('error', (err) => this.log.debug({ err: err.message }, 'websocket error'));
    ws.once('close', (code: number) => {
      this.#closing = true;
      clearInterval(this.#pingTimer);
      clearTimeout(this.#deadline);
      handler.onClose(this, code);
    });
  }

  get closed(): boolean {
    return this.#closing;
  }

  /**
   * Writes one text frame. Returns false when the frame was not written because the connection
   * is closing, or because the peer stopped reading and the connection was cut.
   */
  sendText(text: string | Buffer): boolean {
    if (this.#closing) return false;
    const buffered = this.#ws.bufferedAmount;
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
    const socket = this.#socket;
    // Checked per frame: after a close frame (ours or the peer's) nothing else may be written.
    if (socket !== undefined && this.#ws.readyState === OPEN) socket.write(frameText(text));
    // Buffers are pre-encoded fan-out frames: send them as text without re-encoding.
    else this.#ws.send(text, { binary: false });
    return true;
  }

  /**
   * Sends a final frame, then an empty close frame (clients observe 1005, like upstream after a
   * `bye` or a disinvite).
   */
  sendAndClose(text: string): void {
    if (this.#closing) return;
    this.#ws.send(text);
    this.closeWithoutStatus();
  }

  /** Closes with an empty close frame (no status code), as upstream does after its last frame. */
  closeWithoutStatus(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#ws.close();
    this.#terminateLater();
  }

  close(code: number = CloseCode.Normal, reason = ''): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#ws.close(code, reason);
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
    this.#ws.ping(String(Date.now() * 1e6));
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
    this.#ws.terminate();
  }

  /** A peer that never completes the closing handshake must not keep the socket open. */
  #terminateLater(): void {
    const timer = setTimeout(() => this.#ws.terminate(), 5_000);
    timer.unref();
    this.#ws.once('close', () => clearTimeout(timer));
  }
}

const OPEN = 1; // WebSocket.OPEN

/**
 * Writing a text frame ourselves costs one `socket.write` of one buffer. `ws.send` builds an
 * options object and a frame array per call and writes header and payload as two chunks under
 * cork/uncork, i.e. a `writev` through the stream's buffered path: a third of the server's CPU
 * per relayed message went there. This is only equivalent while ws's sender never queues, which
 * holds without extensions (no permessage-deflate; we never send Blobs): then `ws.send` writes to
 * the socket synchronously too, so frames written either way stay in order, and
 * `ws.bufferedAmount` (socket write queue + sender queue) still sees every byte for the
 * slow-consumer cut-off.
 */
function rawSocketOf(ws: WebSocket): Socket | undefined {
  const socket = (ws as unknown as { _socket?: Socket })._socket;
  if (ws.extensions !== '' || socket === undefined || typeof socket.write !== 'function') return undefined;
  return socket;
}

/** Payloads from this size on keep their framed copy (fan-out frames reach many sockets). */
const FRAMED_CACHE_MIN = 4096;
const framedCache = new WeakMap<Buffer, Buffer>();

/** One unmasked, final text frame (RFC 6455 5.2) holding `payload`, as one buffer. */
function frameText(payload: string | Buffer): Buffer {
  if (typeof payload === 'string') {
    const length = Buffer.byteLength(payload);
    const frame = allocFrame(length);
    frame.write(payload, frame.length - length, length, 'utf8');
    return frame;
  }
  const cacheable = payload.length >= FRAMED_CACHE_MIN;
  if (cacheable) {
    const cached = framedCache.get(payload);
    if (cached !== undefined) return cached;
  }
  const frame = allocFrame(payload.length);
  payload.copy(frame, frame.length - payload.length);
  if (cacheable) framedCache.set(payload, frame);
  return frame;
}

/** A buffer for a text frame of `length` payload bytes, header written. */
function allocFrame(length: number): Buffer {
  const headerLength = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = 0x81; // FIN + opcode 1 (text)
  if (headerLength === 2) {
    frame[1] = length;
  } else if (headerLength === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  return frame;
}

function rawToString(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
