import { EventEmitter } from 'node:events';
import { status, type ServerDuplexStream } from '@grpc/grpc-js';
import type { ClientSessionMessage, ServerSessionMessage } from '../generated/sessions';
import { ClusterError, toGrpcStatus, type ClusterErrorCode } from './errors';

/** Who is behind a relayed session (`ProxySession` metadata). */
export interface ProxySessionInfo {
  /** Public id of the session being resumed. */
  sessionId: string;
  remoteAddr: string;
  country: string;
  userAgent: string;
}

export interface ProxySessionStreamEvents {
  /** One raw JSON signaling message from the client (untrusted bytes). */
  message: [message: Buffer];
  /** The relay ended (peer closed, cancelled, failed, or {@link ProxySessionStream.close}). */
  close: [];
}

/** Bytes of replies allowed to wait for a slow peer before the relay is cut (upstream: a queue of 16 messages). */
export const PROXY_SESSION_MAX_QUEUED_BYTES = 1024 * 1024;

/**
 * The server side of a `ProxySession` relay: a client connected to another node whose session
 * lives here. Messages in are raw client JSON; {@link send} writes raw server JSON back.
 */
export class ProxySessionStream extends EventEmitter<ProxySessionStreamEvents> {
  readonly #call: ServerDuplexStream<ClientSessionMessage, ServerSessionMessage>;
  readonly #maxQueuedBytes: number;
  #closed = false;

  constructor(call: ServerDuplexStream<ClientSessionMessage, ServerSessionMessage>, readonly info: ProxySessionInfo, maxQueuedBytes = PROXY_SESSION_MAX_QUEUED_BYTES) {
    super();
    this.#call = call;
    this.#maxQueuedBytes = maxQueuedBytes;
    call.on('data', (msg: ClientSessionMessage) => {
      if (!this.#closed) this.emit('message', msg.message);
    });
    call.on('end', () => this.close());
    call.on('cancelled', () => this.#finish());
    call.on('error', () => this.#finish());
    call.on('close', () => this.#finish());
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sends one raw JSON message to the client. Returns false (and sends nothing) once closed; a
   * peer that lets more than the queue bound pile up is cut off with RESOURCE_EXHAUSTED.
   */
  send(message: Buffer | string): boolean {
    if (this.#closed) return false;
    if (this.#call.writableLength > this.#maxQueuedBytes) {
      this.#fail(status.RESOURCE_EXHAUSTED, 'peer does not read its session messages');
      return false;
    }
    this.#call.write({ message: typeof message === 'string' ? Buffer.from(message) : message });
    return true;
  }

  /** Ends the relay normally (status OK). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#call.end();
    this.#finish();
  }

  /** Ends the relay with an error status the other node sees (e.g. `not_found` for an unknown session). */
  fail(code: ClusterErrorCode, details: string): void {
    this.#fail(toGrpcStatus(new ClusterError(code, details)).code, details);
  }

  #fail(code: status, details: string): void {
    if (this.#closed) return;
    this.#call.emit('error', { code, details });
    this.#finish();
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.emit('close');
    this.removeAllListeners('message');
  }
}
