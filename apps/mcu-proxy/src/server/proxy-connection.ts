import type WebSocket from 'ws';
import type { ProxySession, SessionSink } from '../session/proxy-session';

/** A reader this far behind (bytes buffered for it) is disconnected; its session lives on. */
export const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

/** One `/proxy` WebSocket. Bound to at most one session (after hello / resume). */
export class ProxyConnection implements SessionSink {
  readonly ws: WebSocket;
  readonly remoteAddress: string;
  session: ProxySession | undefined;
  /** Messages of this connection being processed (bounded, see ProxyServer). */
  inFlight = 0;
  /** A hello is being checked (a second one is refused meanwhile). */
  helloPending = false;
  #closed = false;

  constructor(ws: WebSocket, remoteAddress: string) {
    this.ws = ws;
    this.remoteAddress = remoteAddress;
  }

  get closed(): boolean {
    return this.#closed || this.ws.readyState !== this.ws.OPEN;
  }

  sendText(text: string): void {
    if (this.closed) return;
    if (this.ws.bufferedAmount > MAX_BUFFERED_BYTES) {
      // Not reading: drop the socket rather than buffer without bound (the session can resume).
      this.#closed = true;
      this.ws.terminate();
      return;
    }
    this.ws.send(text);
  }

  send(message: object): void {
    this.sendText(JSON.stringify(message));
  }

  /** Sends `message` (if any) and closes normally. */
  close(message?: object): void {
    if (this.#closed) return;
    if (message) this.send(message);
    this.#closed = true;
    this.ws.close(1000);
  }
}
