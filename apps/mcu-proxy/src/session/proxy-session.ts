import type { ProxyClient } from '../server/proxy-clients';

/** Upstream expires a session 60 s after its last use (message or pong). */
export const SESSION_EXPIRY_MS = 60_000;
/** Bytes of messages kept for a session without a connection (oldest dropped beyond it). */
export const MAX_PENDING_BYTES = 1024 * 1024;

/** What a session writes to: the current WebSocket of its signaling server. */
export interface SessionSink {
  sendText(text: string): void;
}

/**
 * One signaling server's session on this proxy. It owns the publishers and subscribers created
 * through it; they live on while the WebSocket is away and die with the session (bye, expiry).
 * Messages for a disconnected session are queued (bounded) and delivered on resume.
 */
export class ProxySession {
  readonly id: string;
  readonly clients = new Map<string, ProxyClient>();
  #sink: SessionSink | undefined;
  #pending: string[] = [];
  #pendingBytes = 0;
  #lastUsed = Date.now();
  #closed = false;
  /** Messages dropped because the queue was full (logged once per resume). */
  dropped = 0;

  constructor(id: string) {
    this.id = id;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get connected(): boolean {
    return this.#sink !== undefined;
  }

  get sink(): SessionSink | undefined {
    return this.#sink;
  }

  markUsed(now = Date.now()): void {
    this.#lastUsed = now;
  }

  expired(now = Date.now(), expiryMs = SESSION_EXPIRY_MS): boolean {
    return now - this.#lastUsed >= expiryMs;
  }

  /** Attaches a connection and flushes what was queued; returns the previous one, if any. */
  attach(sink: SessionSink): SessionSink | undefined {
    const previous = this.#sink;
    this.#sink = sink;
    this.markUsed();
    const pending = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    for (const text of pending) sink.sendText(text);
    return previous;
  }

  /** The connection went away (the session stays until it expires). */
  detach(sink: SessionSink): void {
    if (this.#sink === sink) {
      this.#sink = undefined;
      this.markUsed();
    }
  }

  send(message: object): void {
    if (this.#closed) return;
    this.sendText(JSON.stringify(message));
  }

  /** An already serialised message (broadcasts serialise once for all sessions). */
  sendText(text: string): void {
    if (this.#closed) return;
    if (this.#sink) {
      this.#sink.sendText(text);
      return;
    }
    this.#pending.push(text);
    this.#pendingBytes += text.length;
    while (this.#pendingBytes > MAX_PENDING_BYTES && this.#pending.length > 0) {
      this.#pendingBytes -= this.#pending.shift()!.length;
      this.dropped += 1;
    }
  }

  /** Marks the session closed; returns the connection that was attached, if any. */
  close(): SessionSink | undefined {
    this.#closed = true;
    const sink = this.#sink;
    this.#sink = undefined;
    this.#pending = [];
    this.#pendingBytes = 0;
    return sink;
  }
}
