import { Counter, Gauge, type Registry } from 'prom-client';

/** Why a message did not reach its handlers (the `reason` label of the dropped counter). */
export type DropReason =
  /** The subject's (or the bus') queue budget was full. */
  | 'queue_full'
  /** Published while the NATS connection was down: local subscribers got it, other nodes did not. */
  | 'disconnected'
  /** Incoming payload larger than `maxMessageBytes`, or outgoing larger than the server's `max_payload`. */
  | 'oversize'
  /** Incoming payload nested deeper than `maxDepth`. */
  | 'too_deep'
  /** Incoming payload is not JSON. */
  | 'malformed'
  /** Incoming JSON is not an `AsyncMessage` (no object, no `type`, wrong payload for its type). */
  | 'invalid'
  /** Outgoing message could not be serialised (e.g. a cycle). */
  | 'unserialisable';

/** What the queue gauges read when scraped. */
export interface BusGaugeSource {
  subjects(): number;
  queuedMessages(): number;
  queuedBytes(): number;
}

/**
 * The bus' metrics. Upstream exports none for NATS (fact sheet 7.4), so these are our own names
 * under `signaling_nats_`; the loopback bus uses the same set (upstream calls it the NATS
 * loopback client), it just never connects or disconnects.
 */
export function createBusMetrics(registry?: Registry) {
  const registers = registry ? [registry] : [];
  let source: BusGaugeSource | undefined;
  return {
    connected: new Gauge({ name: 'signaling_nats_connected', help: 'Whether the bus is connected to a NATS server (loopback: always 1)', registers }),
    disconnects: new Counter({ name: 'signaling_nats_disconnects_total', help: 'Connections to a NATS server lost', registers }),
    reconnects: new Counter({ name: 'signaling_nats_reconnects_total', help: 'Connections to a NATS server re-established (subscriptions renewed)', registers }),
    connectFailures: new Counter({ name: 'signaling_nats_connect_failures_total', help: 'Failed initial connection attempts (retried 1 s → 8 s)', registers }),
    published: new Counter({ name: 'signaling_nats_messages_published_total', help: 'Messages sent to the NATS server', registers }),
    received: new Counter({ name: 'signaling_nats_messages_received_total', help: 'Messages received from the NATS server (before validation)', registers }),
    dropped: new Counter({
      name: 'signaling_nats_messages_dropped_total',
      help: 'Messages not delivered, by reason (queue_full, disconnected, oversize, too_deep, malformed, invalid, unserialisable)',
      labelNames: ['reason'] as const,
      registers,
    }),
    subjects: new Gauge({
      name: 'signaling_nats_subjects',
      help: 'Subjects with at least one local subscriber (one NATS subscription each)',
      registers,
      collect() {
        this.set(source?.subjects() ?? 0);
      },
    }),
    queuedMessages: new Gauge({
      name: 'signaling_nats_queued_messages',
      help: 'Messages waiting for their handlers',
      registers,
      collect() {
        this.set(source?.queuedMessages() ?? 0);
      },
    }),
    queuedBytes: new Gauge({
      name: 'signaling_nats_queued_bytes',
      help: 'Bytes (serialised size) of the messages waiting for their handlers',
      registers,
      collect() {
        this.set(source?.queuedBytes() ?? 0);
      },
    }),
    /** Points the queue gauges at a bus (one bus per registry). */
    setSource(s: BusGaugeSource): void {
      source = s;
    },
  };
}

export type BusMetrics = ReturnType<typeof createBusMetrics>;
