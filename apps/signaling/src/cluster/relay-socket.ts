import { EventEmitter } from 'node:events';
import type { ProxySessionStream } from '@talk-signaling/cluster';

const OPEN = 1;
const CLOSED = 3;

/**
 * The few `ws` WebSocket members `ClientConnection` uses, over the server side of a
 * `ProxySession` relay: a client connected to another node whose session lives here is handed
 * to the hub like any socket. Pings are answered at once with an empty payload (the gRPC stream
 * has its own liveness); there is no raw TCP socket (`_socket` is absent), so every frame goes
 * through {@link send}. Keep in step with what `ClientConnection` reads from `ws`
 * (`apps/signaling/test/cluster-grpc.int.spec.ts` runs a relayed client through it).
 */
export class RelaySocket extends EventEmitter {
  readonly extensions = '';
  readonly bufferedAmount = 0;
  #open = true;
  readonly #stream: ProxySessionStream;

  constructor(stream: ProxySessionStream) {
    super();
    this.#stream = stream;
    stream.on('message', (message) => {
      if (this.#open) this.emit('message', message, false);
    });
    stream.on('close', () => this.#closed(1000));
  }

  get readyState(): number {
    return this.#open ? OPEN : CLOSED;
  }

  send(data: string | Buffer): void {
    if (this.#open) this.#stream.send(data);
  }

  ping(): void {
    // An empty payload: no round-trip time is recorded for a relayed client.
    queueMicrotask(() => {
      if (this.#open) this.emit('pong', Buffer.alloc(0));
    });
  }

  close(code = 1000): void {
    this.#stream.close();
    this.#closed(code);
  }

  terminate(): void {
    this.close(1006);
  }

  #closed(code: number): void {
    if (!this.#open) return;
    this.#open = false;
    this.emit('close', code);
  }
}
