import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ClientSocket, SocketSink } from '../connection/client-socket';
import { FrameParser, type FrameSink } from './frame-parser';
import { Opcode, closeFrame, controlFrame, textFrame } from './frames';
import { FrameQueue } from './write-coalescer';

const OPEN = 0;
const CLOSING = 1;
const CLOSED = 2;

/** A peer that never answers our close frame loses its socket after this long (ws's default). */
const CLOSE_TIMEOUT_MS = 30_000;
/** Pongs we owe a peer that does not read may pile up to this many, then it is dropped (ws's default). */
const MAX_PENDING_PONGS = 60;

/**
 * The server end of one RFC 6455 connection on the raw socket of an HTTP upgrade: frames are
 * parsed straight off 'data' chunks ({@link FrameParser}) and written as one buffer per frame,
 * frames for the same socket in one event-loop turn coalesced ({@link FrameQueue}).
 * Close handshake as ws did it: a close frame from the peer is echoed (its code and reason) and
 * the socket ended; a close we start waits for the peer's frame, at most
 * {@link CLOSE_TIMEOUT_MS}; a protocol error sends its code and ends the socket at once. Pings
 * are answered with the same payload. No extensions, no client-side masking: server only.
 */
export class ServerWebSocket implements ClientSocket, FrameSink {
  readonly #socket: Duplex;
  readonly #parser: FrameParser;
  readonly #queue: FrameQueue;
  #sink: SocketSink | undefined;
  #state = OPEN;
  #closeSent = false;
  #closeReceived = false;
  #errored = false;
  #closeCode = 1006;
  #closeTimer: NodeJS.Timeout | undefined;
  #pendingPongs = 0;

  /** `head`: bytes that came with the upgrade request, after its headers. */
  constructor(socket: Duplex, head: Buffer, maxPayload: number) {
    this.#socket = socket;
    this.#parser = new FrameParser(this, maxPayload);
    this.#queue = new FrameQueue(socket);
    const tcp = socket as Partial<Socket>;
    tcp.setTimeout?.(0);
    tcp.setNoDelay?.(true);
    // Read on the next tick (as ws did): the owner attaches first.
    if (head.length > 0) socket.unshift(head);
    socket.on('data', (chunk: Buffer) => this.#parser.push(chunk));
    socket.on('end', () => {
      this.#state = CLOSING;
      this.#queue.flush();
      socket.end();
    });
    socket.on('error', () => {
      this.#state = CLOSING;
      this.#queue.clear();
      socket.destroy();
    });
    socket.once('close', () => {
      this.#state = CLOSED;
      this.#queue.clear();
      clearTimeout(this.#closeTimer);
      this.#parser.stop();
      this.#sink?.onSocketClose(this.#closeCode);
    });
  }

  attach(sink: SocketSink): void {
    this.#sink = sink;
  }

  get bufferedAmount(): number {
    return this.#socket.writableLength + this.#queue.bytes;
  }

  sendText(payload: string | Buffer): void {
    if (this.#state === OPEN) this.#queue.push(textFrame(payload));
  }

  ping(payload: string): void {
    if (this.#state === OPEN) this.#queue.push(controlFrame(Opcode.Ping, payload));
  }

  close(code?: number, reason?: string | Buffer): void {
    if (this.#state === CLOSED) return;
    if (this.#state === CLOSING) {
      // Already closing: finish once both close frames are through (or the peer misbehaved).
      if (this.#closeSent && (this.#closeReceived || this.#errored)) this.#socket.end();
      return;
    }
    this.#state = CLOSING;
    this.#queue.flush();
    this.#socket.write(closeFrame(code, reason));
    this.#closeSent = true;
    if (this.#closeReceived || this.#errored) this.#socket.end();
    // Either way a peer that never finishes its side (a half-open socket) is cut at the timeout.
    this.#closeTimer = setTimeout(() => this.#socket.destroy(), CLOSE_TIMEOUT_MS);
  }

  terminate(): void {
    if (this.#state === CLOSED) return;
    this.#state = CLOSING;
    this.#parser.stop();
    this.#queue.clear();
    this.#socket.destroy();
  }

  /** FrameSink: a data message. */
  onMessage(payload: Buffer, binary: boolean): void {
    const sink = this.#sink;
    if (sink === undefined) return;
    if (binary) sink.onSocketBinary();
    else sink.onSocketText(payload.toString(), payload.length);
  }

  /** FrameSink: answered with the same payload while open. */
  onPing(payload: Buffer): void {
    if (this.#state !== OPEN) return;
    if (this.#pendingPongs >= MAX_PENDING_PONGS) {
      this.terminate();
      return;
    }
    this.#pendingPongs++;
    // Straight to the socket (a callback per pong): after the frames queued before it.
    this.#queue.flush();
    this.#socket.write(controlFrame(Opcode.Pong, payload), () => this.#pendingPongs--);
  }

  /** FrameSink */
  onPong(payload: Buffer): void {
    this.#sink?.onSocketPong(payload);
  }

  /** FrameSink: the peer's close frame; echoed, then the socket ends. */
  onCloseFrame(code: number, reason: Buffer): void {
    this.#closeReceived = true;
    this.#closeCode = code;
    if (code === 1005) this.close();
    else this.close(code, Buffer.from(reason));
  }

  /** FrameSink: close with the fault's code, end the socket without waiting for the peer. */
  onProtocolError(code: number, message: string): void {
    this.#errored = true;
    this.close(code);
    this.#sink?.onSocketError(message);
  }
}
