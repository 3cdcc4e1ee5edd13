import { Counter, Gauge, type Registry } from 'prom-client';

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
    // Upstream v2.1 call metrics: sessions with the in-call flag set, per room.
    callSessions: new Gauge({
      name: 'signaling_call_sessions',
      help: 'The current number of sessions in a call',
      labelNames: ['backend', 'room', 'clienttype'] as const,
      registers: [registry],
    }),
    callSessionsTotal: new Counter({
      name: 'signaling_call_sessions_total',
      help: 'The total number of sessions in a call',
      labelNames: ['backend', 'clienttype'] as const,
      registers: [registry],
    }),
    callRoomsTotal: new Counter({
      name: 'signaling_call_rooms_total',
      help: 'The total number of rooms with an active call',
      labelNames: ['backend'] as const,
      registers: [registry],
    }),
  };
}

export type RoomMetrics = ReturnType<typeof createRoomMetrics>;
