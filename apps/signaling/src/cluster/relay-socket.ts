import type { ProxySessionStream } from '@talk-signaling/cluster';
import type { ClientSocket, SocketSink } from '../connection/client-socket';

/**
 * The server side of a `ProxySession` relay as a {@link ClientSocket}: a client connected to
 * another node whose session lives here is handed to the hub like any socket. Pings are answered
 * at once with an empty payload (the gRPC stream has its own liveness); the stream bounds its
 * own queue, so nothing counts as buffered here (`apps/signaling/test/cluster-grpc.int.spec.ts`
 * runs a relayed client through it).
 */
export class RelaySocket implements ClientSocket {
  readonly bufferedAmount = 0;
  #open = true;
  #sink: SocketSink | undefined;
  readonly #stream: ProxySessionStream;

  constructor(stream: ProxySessionStream) {
    this.#stream = stream;
    stream.on('message', (message) => {
      if (this.#open) this.#sink?.onSocketText(message.toString(), message.length);
    });
    stream.on('close', () => this.#closed(1000));
  }

  attach(sink: SocketSink): void {
    this.#sink = sink;
  }

  sendText(data: string | Buffer): void {
    if (this.#open) this.#stream.send(data);
  }

  ping(): void {
    // An empty payload: no round-trip time is recorded for a relayed client.
    queueMicrotask(() => {
      if (this.#open) this.#sink?.onSocketPong(Buffer.alloc(0));
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
    this.#sink?.onSocketClose(code);
  }
}
