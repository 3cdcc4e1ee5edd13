import { Gauge, type Registry } from 'prom-client';

/** Room gauges with upstream's names (section 7.4). */
export function createRoomMetrics(registry: Registry) {
  return {
    rooms: new Gauge({
      name: 'signaling_hub_rooms',
      help: 'The current number of rooms per backend',
      labelNames: ['backend'] as const,
      registers: [registry],
    }),
    roomSessions: new Gauge({
      name: 'signaling_room_sessions',
      help: 'The current number of sessions in a room',
      labelNames: ['backend', 'room', 'clienttype'] as const,
      registers: [registry],
    }),
  };
}

export type RoomMetrics = ReturnType<typeof createRoomMetrics>;
