import { EventEmitter } from 'node:events';
import type { Logger } from '@talk-signaling/runtime';
import { withTimeout, type JanusChannel } from './channel';
import { ClosedError, JanusError, JanusErrorCode } from './errors';
import { JanusHandle } from './janus-handle';
import type { JanusMessage, JanusSessionEvents } from './janus-types';

/** Janus's default `session_timeout` is 60 s; upstream sends a keepalive every 30 s. */
export const DEFAULT_KEEPALIVE_INTERVAL_MS = 30_000;

/** Options for {@link JanusConnection.createSession}. */
export interface JanusSessionOptions {
  /** Keepalive interval (ms); default {@link DEFAULT_KEEPALIVE_INTERVAL_MS}; 0 disables it. */
  keepaliveIntervalMs?: number;
}

/** Options for {@link JanusSession.attach}. */
export interface AttachOptions {
  /** Request deadline (ms); default the connection's. */
  timeoutMs?: number;
  /** Janus `opaque_id` (shown in admin API and event handlers). */
  opaqueId?: string;
}

/**
 * A Janus session: owns its handles and keeps itself alive. Ends in one of three ways:
 * {@link destroy} (we ended it; network round trip), {@link connectionClosed} (the connection
 * went away; no round trip), or Janus dropping it (`timeout` message, or a keepalive answered
 * with 458 "session not found"). Every way closes the handles and emits `'close'` once.
 */
export class JanusSession extends EventEmitter<JanusSessionEvents> {
  readonly #channel: JanusChannel;
  readonly #log: Logger;
  readonly #handles = new Map<number, JanusHandle>();
  readonly #onGone: () => void;
  #closed = false;
  /** Keepalive timer; set while open and keepalive is enabled. */
  #keepaliveTimer: NodeJS.Timeout | undefined;

  /** @internal Created by {@link JanusConnection.createSession}. */
  constructor(
    channel: JanusChannel,
    /** Janus session id. */
    readonly id: number,
    options: JanusSessionOptions,
    onGone: () => void,
  ) {
    super();
    this.#channel = channel;
    this.#log = channel.logger;
    this.#onGone = onGone;
    const interval = options.keepaliveIntervalMs ?? DEFAULT_KEEPALIVE_INTERVAL_MS;
    if (interval > 0) {
      this.#keepaliveTimer = setInterval(() => this.#sendKeepalive(), interval);
      this.#keepaliveTimer.unref();
    }
  }

  /** True once the session is gone. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Live handles of this session. */
  get handles(): ReadonlyMap<number, JanusHandle> {
    return this.#handles;
  }

  /** `attach` to `plugin` (e.g. `janus.plugin.videoroom`) → a new handle. */
  async attach(plugin: string, options: AttachOptions = {}): Promise<JanusHandle> {
    if (this.#closed) throw new ClosedError('janus session closed');
    const msg: Record<string, unknown> = { janus: 'attach', plugin };
    if (options.opaqueId !== undefined) msg['opaque_id'] = options.opaqueId;
    const reply = await this.#channel.request(msg, withTimeout(this.#channel, 'attach', false, this, options.timeoutMs));
    const id = (reply['data'] as { id?: unknown } | undefined)?.id;
    if (typeof id !== 'number') throw new Error(`janus attach: no handle id in ${JSON.stringify(reply)}`);
    const handle = new JanusHandle(this.#handleChannel(id), id, plugin, () => this.#handles.delete(id));
    if (this.#closed) {
      // The session closed while the attach was in flight; Janus dropped the handle with it.
      handle.sessionClosed(new ClosedError('janus session closed'));
      throw new ClosedError('janus session closed');
    }
    this.#handles.set(id, handle);
    return handle;
  }

  /** One `keepalive` round trip (→ `ack`). */
  async keepalive(timeoutMs?: number): Promise<void> {
    if (this.#closed) throw new ClosedError('janus session closed');
    await this.#channel.request({ janus: 'keepalive' }, withTimeout(this.#channel, 'keepalive', true, this, timeoutMs));
  }

  /**
   * `destroy` the session in Janus, then close locally (also when the request fails: a session
   * we gave up on is gone for us either way).
   */
  async destroy(timeoutMs?: number): Promise<void> {
    if (this.#closed) return;
    try {
      await this.#channel.request({ janus: 'destroy' }, withTimeout(this.#channel, 'destroy', false, this, timeoutMs));
    } finally {
      this.#close(undefined);
    }
  }

  /** @internal The connection closed or was lost: close without a round trip. */
  connectionClosed(reason: Error): void {
    this.#close(reason);
  }

  /** @internal Routes a transaction-less message of this session. */
  dispatch(msg: JanusMessage): void {
    if (msg.janus === 'timeout' && msg.sender === undefined) {
      this.#log.warn('janus session timed out');
      this.emit('timeout');
      this.#close(new ClosedError('janus session timed out'));
      return;
    }
    const handle = typeof msg.sender === 'number' ? this.#handles.get(msg.sender) : undefined;
    if (handle) handle.dispatch(msg);
    else this.#log.debug({ janus: msg.janus, sender: msg.sender }, 'janus event for unknown handle');
  }

  #sendKeepalive(): void {
    this.keepalive().catch((err: unknown) => {
      if (err instanceof JanusError && err.code === JanusErrorCode.SessionNotFound) {
        // Janus forgot us (upstream reconnects on 458); the owner re-creates the session.
        this.#log.warn({ err }, 'janus session lost');
        this.#close(err);
      } else if (!(err instanceof ClosedError)) {
        this.#log.warn({ err }, 'janus keepalive failed');
      }
    });
  }

  #handleChannel(handleId: number): JanusChannel {
    return {
      request: (msg, options) => this.#channel.request({ ...msg, handle_id: handleId }, options),
      cancel: (owner, err) => this.#channel.cancel(owner, err),
      logger: this.#log.child({ handle: handleId }),
      requestTimeoutMs: this.#channel.requestTimeoutMs,
    };
  }

  #close(reason: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#keepaliveTimer);
    this.#keepaliveTimer = undefined;
    this.#onGone();
    this.#channel.cancel(this, reason ?? new ClosedError('janus session destroyed'));
    const handles = [...this.#handles.values()];
    this.#handles.clear();
    const childReason = reason ?? new ClosedError('janus session destroyed');
    for (const handle of handles) handle.sessionClosed(childReason);
    this.emit('close', reason);
  }
}
