import type WebSocket from 'ws';
import type { ProxySession, SessionSink } from '../session/proxy-session';

/** One `/proxy` WebSocket. Bound to at most one session (after hello / resume). */
export class ProxyConnection implements SessionSink {
  readonly ws: WebSocket;
  readonly remoteAddress: string;
  session: ProxySession | undefined;
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
