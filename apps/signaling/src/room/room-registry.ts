import type { Logger } from '@talk-signaling/runtime';
import type { Router } from '../delivery/router';
import { Room, type RoomOptions } from './room';
import type { RoomMetrics } from './room-metrics';

/** Told when this node starts and stops hosting a room. */
export interface RoomListener {
  roomCreated?(room: Room): void;
  roomDestroyed?(room: Room): void;
}

export interface RoomRegistryOptions extends Pick<RoomOptions, 'remoteInternalSessions'> {
  router: Router;
  metrics: RoomMetrics;
  log: Logger;
  batchMs: number;
}

/** The rooms hosted on this node, keyed by (backend id, room id): rooms are isolated per backend. */
export class RoomRegistry {
  readonly #rooms = new Map<string, Room>();
  readonly #listeners: RoomListener[] = [];
  readonly #opts: RoomRegistryOptions;

  constructor(opts: RoomRegistryOptions) {
    this.#opts = opts;
  }

  addListener(listener: RoomListener): void {
    this.#listeners.push(listener);
  }

  get size(): number {
    return this.#rooms.size;
  }

  get(backendId: string, roomId: string): Room | undefined {
    return this.#rooms.get(key(backendId, roomId));
  }

  /** The room, created with `properties` when it does not exist yet (later joins keep the old ones). */
  getOrCreate(backendId: string, roomId: string, properties: unknown): Room {
    const k = key(backendId, roomId);
    let room = this.#rooms.get(k);
    if (!room) {
      room = new Room({
        id: roomId,
        backendId,
        properties,
        router: this.#opts.router,
        metrics: this.#opts.metrics,
        log: this.#opts.log.child({ room: roomId, backend: backendId }),
        batchMs: this.#opts.batchMs,
        onEmpty: (r) => this.#remove(r),
        remoteInternalSessions: this.#opts.remoteInternalSessions,
      });
      this.#rooms.set(k, room);
      this.#opts.metrics.rooms.inc({ backend: backendId });
      room.log.debug('room created');
      for (const l of this.#listeners) l.roomCreated?.(room);
    }
    return room;
  }

  all(): IterableIterator<Room> {
    return this.#rooms.values();
  }

  #remove(room: Room): void {
    const k = key(room.backendId, room.id);
    if (this.#rooms.get(k) !== room) return;
    this.#rooms.delete(k);
    this.#opts.metrics.rooms.dec({ backend: room.backendId });
    room.log.debug('room destroyed');
    for (const l of this.#listeners) l.roomDestroyed?.(room);
  }
}

function key(backendId: string, roomId: string): string {
  return `${backendId}|${roomId}`;
}
