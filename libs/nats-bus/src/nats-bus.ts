import { EventEmitter } from 'node:events';
import { connect, ErrorCode, Events, type NatsConnection, type NatsError, type Subscription } from 'nats';
import { Backoff, type Logger } from '@talk-signaling/runtime';
import type { Bus, BusInfo, BusSubscription } from './bus';
import { busLimits, type BusLimits } from './bus-limits';
import { AsyncMessageEncoder } from './async-message-encoder';
import { decodeAsyncMessage } from './decode-message';
import { DeliveryQueue, SubjectState, type Handler } from './delivery-queue';
import { DropReporter } from './drop-reporter';
import { estimateJsonSize } from './json-size';
import type { BusMetrics } from './metrics';
import { addSubjectHandler } from './subject-handlers';
import { maskUrl } from './url';

/** Upstream retries the first connection 1 s → 8 s, doubling. */
export const DEFAULT_CONNECT_BACKOFF = Object.freeze({ initialMs: 1_000, maxMs: 8_000 });
/** Wait between reconnect attempts after a lost connection (nats.js default 2 s). */
export const DEFAULT_RECONNECT_WAIT_MS = 1_000;
/** How long `close()` lets the connection drain before closing it hard (ms). */
const DRAIN_TIMEOUT_MS = 2_000;

export interface NatsBusOptions {
  /** NATS server URLs (`[nats] url`, split at commas). */
  servers: readonly string[];
  log: Logger;
  metrics?: BusMetrics;
  limits?: Partial<BusLimits>;
  /** A handler threw (the other handlers still get the message). */
  onError?: (err: unknown, subject: string) => void;
  /** First-connection retry (default 1 s → 8 s). */
  connectBackoff?: { initialMs: number; maxMs: number };
  /** Wait between reconnect attempts (ms). */
  reconnectWaitMs?: number;
  /** Connection name shown by the NATS server's monitoring. */
  name?: string;
}

export type NatsBusEvents = {
  /** First connection made (subscriptions made so far are active). */
  connect: [];
  /** The connection was lost; nats.js keeps reconnecting. */
  disconnect: [];
  /** Reconnected, and the server has confirmed every subscription again. */
  reconnect: [];
};

class NatsSubject extends SubjectState {
  sub: Subscription | undefined;
}

/**
 * The bus over NATS (fact sheet 6.1): JSON `AsyncMessage`s on upstream's subjects.
 *
 * - One NATS subscription per subject per node; the subject's local handlers share it.
 * - The connection is made with `echo` off: a published message goes to the other nodes through
 *   NATS and straight into this node's own queue, so local delivery needs no round trip and keeps
 *   working while NATS is away. It is serialised once, for NATS.
 * - Incoming payloads are size-checked on receipt, queued as text within the queue budget, and
 *   parsed and checked ({@link decodeAsyncMessage}) when their turn comes; a bad one is dropped,
 *   logged and counted, never thrown.
 * - Lost connections are re-established by nats.js forever, which renews the subscriptions;
 *   nothing is replayed, so nothing arrives twice (what was published during the gap is lost,
 *   counted as `disconnected`).
 */
export class NatsBus extends EventEmitter<NatsBusEvents> implements Bus {
  readonly kind = 'nats';
  readonly #servers: readonly string[];
  readonly #log: Logger;
  readonly #metrics: BusMetrics | undefined;
  readonly #limits: BusLimits;
  readonly #queue: DeliveryQueue;
  readonly #drops: DropReporter;
  readonly #subjects = new Map<string, NatsSubject>();
  readonly #opts: NatsBusOptions;
  readonly #decoder = new TextDecoder();
  readonly #encoder = new AsyncMessageEncoder();
  #nc: NatsConnection | undefined;
  #connected = false;
  #closed = false;
  #started: Promise<void> | undefined;
  #wakeUp: (() => void) | undefined;

  constructor(opts: NatsBusOptions) {
    super();
    this.#opts = opts;
    this.#servers = opts.servers;
    this.#log = opts.log;
    this.#metrics = opts.metrics;
    this.#limits = busLimits(opts.limits);
    this.#drops = new DropReporter(opts.log, opts.metrics);
    this.#queue = new DeliveryQueue({
      limits: this.#limits,
      decode: (text, state) => this.#decode(text, state),
      onError: opts.onError ?? ((err, subject) => this.#log.error({ err, subject }, 'bus handler failed')),
    });
    this.#metrics?.connected.set(0);
    this.#metrics?.setSource({
      subjects: () => this.#subjects.size,
      queuedMessages: () => this.#queue.queuedMessages,
      queuedBytes: () => this.#queue.queuedBytes,
    });
  }

  /** Whether the connection to a NATS server is up right now. */
  get connected(): boolean {
    return this.#connected;
  }

  /** Connects (retrying until it works or `close()` is called); resolves once connected. */
  start(): Promise<void> {
    this.#started ??= this.#connectLoop();
    return this.#started;
  }

  publish(subject: string, message: object): void {
    if (this.#closed) return;
    const state = this.#subjects.get(subject);
    let bytes = -1;
    const nc = this.#nc;
    if (nc !== undefined && this.#connected) {
      let data: Buffer;
      try {
        data = Buffer.from(this.#encoder.encode(message));
      } catch (err) {
        this.#drops.drop('unserialisable', subject, (err as Error).message);
        return;
      }
      bytes = data.length;
      try {
        nc.publish(subject, data);
        this.#metrics?.published.inc();
      } catch (err) {
        this.#drops.drop((err as NatsError).code === ErrorCode.MaxPayloadExceeded ? 'oversize' : 'disconnected', subject, (err as Error).message);
      }
    } else {
      this.#drops.drop('disconnected', subject);
    }
    if (state === undefined) return;
    const size = bytes >= 0 ? bytes : (limit: number) => estimateJsonSize(message, limit);
    if (!this.#queue.pushLocal(state, message, size)) this.#drops.drop('queue_full', subject);
  }

  subscribe(subject: string, handler: Handler): BusSubscription {
    return addSubjectHandler(
      this.#subjects,
      subject,
      handler,
      (name) => {
        const state = new NatsSubject(name);
        if (this.#nc !== undefined && !this.#closed) this.#natsSubscribe(this.#nc, state);
        return state;
      },
      (state) => {
        try {
          state.sub?.unsubscribe();
        } catch {
          // The connection is closing or closed: the subscription is gone with it.
        }
        state.sub = undefined;
      },
    );
  }

  /** One round trip to the server: everything published and subscribed before is in effect. */
  async flush(): Promise<void> {
    if (this.#nc !== undefined && this.#connected) await this.#nc.flush();
  }

  info(): BusInfo {
    const info: BusInfo = { urls: this.#servers.map(maskUrl), connected: this.#connected };
    const nc = this.#nc;
    if (nc !== undefined && this.#connected) {
      info.serverurl = maskUrl(nc.getServer());
      if (nc.info?.server_id) info.serverid = nc.info.server_id;
      if (nc.info?.version) info.version = nc.info.version;
      if (nc.info?.cluster) info.clustername = nc.info.cluster;
    }
    return info;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#wakeUp?.();
    const nc = this.#nc;
    if (nc !== undefined) {
      // Drain: stop receiving, hand what arrived to the queue, flush what was published.
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, DRAIN_TIMEOUT_MS);
        timer.unref();
      });
      await Promise.race([nc.drain().catch(() => undefined), deadline]);
      clearTimeout(timer);
      if (!nc.isClosed()) await nc.close().catch(() => undefined);
    }
    this.#queue.flush();
    this.#subjects.clear();
    this.#queue.clear();
    this.#setConnected(false);
  }

  async #connectLoop(): Promise<void> {
    const initial = this.#opts.connectBackoff ?? DEFAULT_CONNECT_BACKOFF;
    const backoff = new Backoff({ initial: initial.initialMs, max: initial.maxMs });
    const servers = this.#servers.map(maskUrl);
    while (!this.#closed) {
      try {
        const nc = await connect({
          servers: [...this.#servers],
          name: this.#opts.name ?? 'talk-signaling',
          noEcho: true,
          maxReconnectAttempts: -1,
          reconnectTimeWait: this.#opts.reconnectWaitMs ?? DEFAULT_RECONNECT_WAIT_MS,
          reconnectJitter: 100,
        });
        if (this.#closed) {
          await nc.close().catch(() => undefined);
          break;
        }
        this.#attach(nc);
        return;
      } catch (err) {
        this.#metrics?.connectFailures.inc();
        const wait = backoff.next();
        this.#log.warn({ servers, err: (err as Error).message, retryInMs: wait }, 'could not connect to NATS, will retry');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, wait);
          this.#wakeUp = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.#wakeUp = undefined;
      }
    }
    throw new Error('NATS bus closed before it connected');
  }

  #attach(nc: NatsConnection): void {
    this.#nc = nc;
    for (const state of this.#subjects.values()) this.#natsSubscribe(nc, state);
    this.#setConnected(true);
    this.#log.info({ server: maskUrl(nc.getServer()), serverId: nc.info?.server_id, subjects: this.#subjects.size }, 'connected to NATS');
    void this.#watchStatus(nc);
    void nc.closed().then((err) => {
      this.#setConnected(false);
      if (!this.#closed) this.#log.error({ err: err?.message }, 'NATS connection closed for good; cross-node delivery stopped');
    });
    this.emit('connect');
  }

  async #watchStatus(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (this.#closed) continue;
      switch (status.type) {
        case Events.Disconnect:
          this.#setConnected(false);
          this.#metrics?.disconnects.inc();
          this.#log.warn({ server: maskUrl(String(status.data)) }, 'lost the NATS connection: messages for other nodes are dropped until it is back');
          this.emit('disconnect');
          break;
        case Events.Reconnect:
          // nats.js has re-sent every SUB; the flush round trip confirms the server has them.
          await nc.flush().catch(() => undefined);
          if (this.#closed || nc.isClosed()) break;
          this.#setConnected(true);
          this.#metrics?.reconnects.inc();
          this.#log.info({ server: maskUrl(nc.getServer()), subjects: this.#subjects.size }, 'reconnected to NATS, subscriptions renewed');
          this.emit('reconnect');
          break;
        case Events.Error:
          this.#log.warn({ err: String(status.data) }, 'NATS server reported an error');
          break;
        case Events.LDM:
          this.#log.warn('NATS server entered lame duck mode: moving to another server');
          break;
        default:
          break;
      }
    }
  }

  #natsSubscribe(nc: NatsConnection, state: NatsSubject): void {
    try {
      state.sub = nc.subscribe(state.subject, {
        callback: (err, msg) => {
          if (err) {
            this.#log.warn({ subject: state.subject, err: err.message }, 'NATS subscription error');
            return;
          }
          this.#onIncoming(state, msg.data);
        },
      });
    } catch (err) {
      this.#log.error({ subject: state.subject, err: (err as Error).message }, 'could not subscribe on NATS');
    }
  }

  #onIncoming(state: NatsSubject, data: Uint8Array): void {
    this.#metrics?.received.inc();
    if (data.length > this.#limits.maxMessageBytes) {
      this.#drops.drop('oversize', state.subject, `${data.length} bytes`);
      return;
    }
    if (state.handlers.size === 0) return;
    // Decoded now (a string holds only itself, not the socket chunk it came in); parsed in turn.
    if (!this.#queue.pushRaw(state, this.#decoder.decode(data), data.length)) this.#drops.drop('queue_full', state.subject);
  }

  #decode(text: string, state: SubjectState): object | undefined {
    const decoded = decodeAsyncMessage(text, this.#limits);
    if (decoded.ok) return decoded.message;
    this.#drops.drop(decoded.reason, state.subject, decoded.detail);
    return undefined;
  }

  #setConnected(connected: boolean): void {
    this.#connected = connected;
    this.#metrics?.connected.set(connected ? 1 : 0);
  }
}
