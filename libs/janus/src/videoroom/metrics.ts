import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * VideoRoom metrics, names and help texts as upstream (`signaling_mcu_*`, label `type` = stream
 * type), plus `signaling_mcu_janus_rooms` (ours): rooms seen in Janus at the last
 * reconciliation, to compare with `signaling_mcu_publishers` (the two should match; a gap means
 * leaked rooms). Created per registry so apps share one and tests get their own.
 */
export interface VideoRoomMetrics {
  publishers: Gauge<'type'>;
  publishersTotal: Counter<'type'>;
  subscribers: Gauge<'type'>;
  subscribersTotal: Counter<'type'>;
  noPublisherTotal: Counter<'type'>;
  /** Media Janus actually receives (`audio`/`video`/`screen`), from `media` events. */
  publisherStreams: Gauge<'type'>;
  janusRooms: Gauge;
  /** Rooms destroyed by reconciliation because no live publisher owned them. */
  orphanRoomsDestroyedTotal: Counter;
}

/** Registers the VideoRoom metrics in `registry`. */
export function createVideoRoomMetrics(registry: Registry): VideoRoomMetrics {
  const registers = [registry];
  return {
    publishers: new Gauge({ name: 'signaling_mcu_publishers', help: 'The current number of publishers', labelNames: ['type'], registers }),
    publishersTotal: new Counter({ name: 'signaling_mcu_publishers_total', help: 'The total number of created publishers', labelNames: ['type'], registers }),
    subscribers: new Gauge({ name: 'signaling_mcu_subscribers', help: 'The current number of subscribers', labelNames: ['type'], registers }),
    subscribersTotal: new Counter({ name: 'signaling_mcu_subscribers_total', help: 'The total number of created subscribers', labelNames: ['type'], registers }),
    noPublisherTotal: new Counter({
      name: 'signaling_mcu_nopublisher_total',
      help: 'The total number of subscribe requests where no publisher exists',
      labelNames: ['type'],
      registers,
    }),
    publisherStreams: new Gauge({ name: 'signaling_mcu_publisher_streams', help: 'The current number of published media streams', labelNames: ['type'], registers }),
    janusRooms: new Gauge({ name: 'signaling_mcu_janus_rooms', help: 'VideoRoom rooms in Janus at the last reconciliation', registers }),
    orphanRoomsDestroyedTotal: new Counter({
      name: 'signaling_mcu_janus_orphan_rooms_destroyed_total',
      help: 'VideoRoom rooms destroyed by reconciliation because no live publisher owned them',
      registers,
    }),
  };
}
