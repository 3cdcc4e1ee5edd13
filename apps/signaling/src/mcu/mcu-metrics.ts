import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * The `signaling_mcu_*` metrics the app adds to those of `libs/janus`
 * (`createVideoRoomMetrics`: publishers, subscribers, nopublisher, publisher_streams, …).
 */
export interface McuMetrics {
  /** MCU messages by type (upstream counts them per client message it hands to Janus). */
  messagesTotal: Counter<'type'>;
  /** Subscriptions whose PeerConnection is up, by stream type. */
  subscriberStreams: Gauge<'type'>;
  /** Ours: MCU messages refused because the session's queue was at its budget. */
  queueRefusedTotal: Counter;
}

export function createMcuMetrics(registry: Registry): McuMetrics {
  const registers = [registry];
  return {
    messagesTotal: new Counter({ name: 'signaling_mcu_messages_total', help: 'The total number of MCU messages', labelNames: ['type'], registers }),
    subscriberStreams: new Gauge({
      name: 'signaling_mcu_subscriber_streams',
      help: 'The current number of subscribed media streams',
      labelNames: ['type'],
      registers,
    }),
    queueRefusedTotal: new Counter({
      name: 'signaling_mcu_queue_refused_messages_total',
      help: 'The total number of MCU messages refused because the session had too many waiting',
      registers,
    }),
  };
}
