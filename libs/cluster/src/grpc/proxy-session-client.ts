import { EventEmitter } from 'node:events';
import type { ClientDuplexStream } from '@grpc/grpc-js';
import type { ClientSessionMessage, ServerSessionMessage } from '../generated/sessions';
import { ClusterError, fromGrpcError } from './errors';
import { PROXY_SESSION_MAX_QUEUED_BYTES } from './proxy-session-stream';

export interface ProxySessionClientEvents {
  /** One raw JSON server message for the client (untrusted bytes from the peer). */
  message: [message: Buffer];
  /** The relay ended; `error` unless it ended normally. */
  close: [error: ClusterError | undefined];
}

/**
 * The client side of a `ProxySession` relay: this node holds the client's connection, the
 * session lives on the peer. {@link send} forwards raw client JSON.
 */
export class ProxySessionClient extends EventEmitter<ProxySessionClientEvents> {
  readonly #call: ClientDuplexStream<ClientSessionMessage, ServerSessionMessage>;
  #closed = false;

  constructor(call: ClientDuplexStream<ClientSessionMessage, ServerSessionMessage>, readonly target: string) {
    super();
    this.#call = call;
    call.on('data', (msg: ServerSessionMessage) => {
      if (!this.#closed) this.emit('message', msg.message);
    });
    call.on('error', (err) => this.#finish(fromGrpcError(err, target)));
    call.on('end', () => this.#finish(undefined));
    call.on('status', (s) => {
      if (s.code !== 0) this.#finish(fromGrpcError(s, target));
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Forwards one raw JSON client message; false once closed. A peer that stops reading is cut off. */
  send(message: Buffer | string): boolean {
    if (this.#closed) return false;
    if (this.#call.writableLength > PROXY_SESSION_MAX_QUEUED_BYTES) {
      this.#call.cancel();
      this.#finish(new ClusterError('resource_exhausted', 'peer does not read its session messages', this.target));
      return false;
    }
    this.#call.write({ message: typeof message === 'string' ? Buffer.from(message) : message });
    return true;
  }

  /** Half-closes (the peer then ends the relay); the `close` event follows. */
  close(): void {
    if (this.#closed) return;
    this.#call.end();
  }

  /** Cuts the relay at once. */
  cancel(): void {
    if (this.#closed) return;
    this.#call.cancel();
    this.#finish(undefined);
  }

  #finish(error: ClusterError | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.emit('close', error);
    this.removeAllListeners('message');
  }
}
