import { Counter, Histogram, type Registry } from 'prom-client';

/** Upstream's RTT buckets: 50 exponential buckets from 1 ms to 30 s. */
const RTT_BUCKETS = Array.from({ length: 50 }, (_, i) => Math.exp((Math.log(30_000) * i) / 49));

/**
 * Client traffic for upstream v2.1's `signaling_client_bytes_total`, `signaling_client_messages_total`
 * (label `direction`: `incoming`/`outgoing`) and `signaling_client_rtt`. The per-frame path only
 * adds to plain numbers; the counters take the difference when Prometheus scrapes.
 */
export class ClientTraffic {
  bytesIn = 0;
  bytesOut = 0;
  messagesIn = 0;
  messagesOut = 0;
  readonly #rtt: Histogram;

  constructor(registry: Registry) {
    const reported = { bytesIn: 0, bytesOut: 0, messagesIn: 0, messagesOut: 0 };
    const catchUp = (counter: Counter<'direction'>, inKey: keyof typeof reported, outKey: keyof typeof reported) => {
      counter.inc({ direction: 'incoming' }, this[inKey] - reported[inKey]);
      counter.inc({ direction: 'outgoing' }, this[outKey] - reported[outKey]);
      reported[inKey] = this[inKey];
      reported[outKey] = this[outKey];
    };
    new Counter({
      name: 'signaling_client_bytes_total',
      help: 'The total number of bytes sent to or received by clients',
      labelNames: ['direction'] as const,
      registers: [registry],
      collect() {
        catchUp(this, 'bytesIn', 'bytesOut');
      },
    });
    new Counter({
      name: 'signaling_client_messages_total',
      help: 'The total number of messages sent to or received by clients',
      labelNames: ['direction'] as const,
      registers: [registry],
      collect() {
        catchUp(this, 'messagesIn', 'messagesOut');
      },
    });
    this.#rtt = new Histogram({
      name: 'signaling_client_rtt',
      help: 'The roundtrip time of WebSocket ping messages in milliseconds',
      buckets: RTT_BUCKETS,
      registers: [registry],
    });
  }

  /** A pong answered a ping sent at `sentMs`. */
  rtt(ms: number): void {
    if (ms >= 0 && Number.isFinite(ms)) this.#rtt.observe(ms);
  }
}
