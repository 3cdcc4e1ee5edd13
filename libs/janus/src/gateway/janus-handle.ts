import { EventEmitter } from 'node:events';
import type { Logger } from '@talk-signaling/runtime';
import { withTimeout, type JanusChannel } from './channel';
import { ClosedError, JanusErrorCode, JanusError, toJanusError } from './errors';
import type { IceCandidate, JanusHandleEvents, JanusMessage, Jsep, PluginData, PluginResult } from './janus-types';

/** Options for one plugin request. */
export interface RequestOptions {
  /** Deadline (ms); default the connection's. */
  timeoutMs?: number;
}

/**
 * A plugin handle. Plugin requests come in two kinds (Janus docs, "plugin messages"):
 * synchronous ones answered by `success` with `plugindata` ({@link request}: VideoRoom `create`,
 * `destroy`, `exists`, `list`, …) and asynchronous ones acked first and answered by an `event`
 * with the same transaction ({@link message}: `join`, `configure`, `start`, …). A plugin error
 * inside either (`error_code` in the data) becomes a {@link JanusError}.
 */
export class JanusHandle extends EventEmitter<JanusHandleEvents> {
  readonly #channel: JanusChannel;
  readonly #log: Logger;
  readonly #onGone: () => void;
  #closed = false;
  /** Set while our own `detach` is in flight. */
  #detaching = false;

  /** @internal Created by {@link JanusSession.attach}. */
  constructor(
    channel: JanusChannel,
    /** Janus handle id (upstream also uses it, in decimal, as the subscriber `sid`). */
    readonly id: number,
    /** The plugin this handle is attached to. */
    readonly plugin: string,
    onGone: () => void,
  ) {
    super();
    this.#channel = channel;
    this.#log = channel.logger;
    this.#onGone = onGone;
  }

  /** True once detached or its session is gone. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The logger carrying this handle's ids. */
  get logger(): Logger {
    return this.#log;
  }

  /** Synchronous plugin request: `message` → `success`; resolves with `plugindata.data`. */
  async request(body: Record<string, unknown>, options: RequestOptions = {}): Promise<Record<string, unknown>> {
    const name = requestName(body);
    const reply = await this.#send({ janus: 'message', body }, name, false, options.timeoutMs);
    return pluginResult(reply, name).data;
  }

  /**
   * Asynchronous plugin request with optional JSEP: `message` → `ack` → `event`; resolves with
   * the event's plugin data and JSEP.
   */
  async message(body: Record<string, unknown>, jsep?: Jsep, options: RequestOptions = {}): Promise<PluginResult> {
    const name = requestName(body);
    const msg: Record<string, unknown> = { janus: 'message', body };
    if (jsep !== undefined) msg['jsep'] = jsep;
    const reply = await this.#send(msg, name, false, options.timeoutMs);
    return pluginResult(reply, name);
  }

  /** `trickle` one candidate or several (→ `ack`). */
  async trickle(candidate: IceCandidate | readonly IceCandidate[], options: RequestOptions = {}): Promise<void> {
    const msg: Record<string, unknown> = { janus: 'trickle' };
    if (Array.isArray(candidate)) msg['candidates'] = candidate;
    else msg['candidate'] = candidate;
    await this.#send(msg, 'trickle', true, options.timeoutMs);
  }

  /** `trickle` with `{completed: true}`: no more candidates. */
  async trickleCompleted(options: RequestOptions = {}): Promise<void> {
    await this.#send({ janus: 'trickle', candidate: { completed: true } }, 'trickle', true, options.timeoutMs);
  }

  /** `hangup`: tear down the PeerConnection, keep the handle. */
  async hangup(options: RequestOptions = {}): Promise<void> {
    await this.#send({ janus: 'hangup' }, 'hangup', false, options.timeoutMs);
  }

  /**
   * `detach` in Janus, then close locally (also when the request fails; 459 "handle not found"
   * just means Janus already dropped it, and is not thrown).
   */
  async detach(options: RequestOptions = {}): Promise<void> {
    if (this.#closed) return;
    this.#detaching = true;
    try {
      await this.#send({ janus: 'detach' }, 'detach', false, options.timeoutMs);
    } catch (err) {
      // 459: Janus already dropped it. ClosedError: our `detached` event closed the handle
      // (cancelling this request) or the session/connection went; gone either way.
      if (!(err instanceof ClosedError) && !(err instanceof JanusError && err.code === JanusErrorCode.HandleNotFound)) throw err;
    } finally {
      this.#close(undefined);
    }
  }

  /** @internal The session closed: close without a round trip. */
  sessionClosed(reason: Error): void {
    this.#close(reason);
  }

  /** @internal A transaction-less message for this handle. */
  dispatch(msg: JanusMessage): void {
    if (this.#closed) return;
    switch (msg.janus) {
      case 'event': {
        const plugindata = msg['plugindata'] as PluginData | undefined;
        const result: PluginResult = { data: plugindata?.data ?? {} };
        if (msg['jsep'] !== undefined) result.jsep = msg['jsep'] as Jsep;
        this.emit('event', result);
        break;
      }
      case 'webrtcup':
        this.emit('webrtcup');
        break;
      case 'media':
        this.emit('media', {
          type: String(msg['type']),
          receiving: msg['receiving'] === true,
          ...(typeof msg['mid'] === 'string' ? { mid: msg['mid'] } : {}),
          ...(typeof msg['seconds'] === 'number' ? { seconds: msg['seconds'] } : {}),
        });
        break;
      case 'hangup':
        this.emit('hangup', typeof msg['reason'] === 'string' ? msg['reason'] : '');
        break;
      case 'slowlink':
        this.emit('slowlink', {
          uplink: msg['uplink'] === true,
          ...(typeof msg['lost'] === 'number' ? { lost: msg['lost'] } : {}),
          ...(typeof msg['mid'] === 'string' ? { mid: msg['mid'] } : {}),
          ...(typeof msg['media'] === 'string' ? { media: msg['media'] } : {}),
        });
        break;
      case 'trickle': {
        const candidate = msg['candidate'];
        if (typeof candidate === 'object' && candidate !== null) this.emit('trickle', candidate as IceCandidate);
        break;
      }
      case 'detached':
        // Janus sends `detached` also for our own `detach`, sometimes before its `success`.
        this.#log.debug('janus detached the handle');
        this.#close(this.#detaching ? undefined : new ClosedError('janus handle detached by janus'));
        break;
      default:
        this.#log.debug({ janus: msg.janus }, 'unhandled janus handle message');
    }
  }

  #send(msg: Record<string, unknown>, name: string, ackIsFinal: boolean, timeoutMs?: number): Promise<JanusMessage> {
    if (this.#closed) return Promise.reject(new ClosedError('janus handle closed'));
    return this.#channel.request(msg, withTimeout(this.#channel, name, ackIsFinal, this, timeoutMs));
  }

  #close(reason: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#onGone();
    this.#channel.cancel(this, reason ?? new ClosedError('janus handle detached'));
    this.emit('close', reason);
  }
}

/** The plugin request's name for errors and logs (`body.request`). */
function requestName(body: Record<string, unknown>): string {
  return typeof body['request'] === 'string' ? body['request'] : 'message';
}

/** Extracts plugin data and JSEP from a `success`/`event` reply; plugin errors throw. */
function pluginResult(reply: JanusMessage, name: string): PluginResult {
  const plugindata = reply['plugindata'] as PluginData | undefined;
  const data = plugindata?.data ?? {};
  // Only `error_code` marks a plugin error; other plugin fields may be called `code`.
  const err = typeof data['error_code'] === 'number' ? toJanusError(data, name) : undefined;
  if (err) throw err;
  const result: PluginResult = { data };
  if (reply['jsep'] !== undefined) result.jsep = reply['jsep'] as Jsep;
  return result;
}
