import type { BackendClient } from '../backend/backend-client';
import { federatedActor } from '../session/federated-actor';
import type { ClientSession } from '../session/client-session';
import type { SessionEvents } from '../session/session-events';
import type { Room } from './room';
import type { RoomSessionIndex } from './room-session-index';

/**
 * Taking a session out of its room, the same way whoever asks: the client (`room` with an
 * empty id, or a join elsewhere), the session's end, a federated join, or Nextcloud deleting
 * the room on any node.
 */
export class RoomMembership {
  readonly #roomSessions: RoomSessionIndex;
  readonly #backendClient: BackendClient;
  readonly #events: SessionEvents;

  constructor(deps: { roomSessions: RoomSessionIndex; backendClient: BackendClient; events: SessionEvents }) {
    this.#roomSessions = deps.roomSessions;
    this.#backendClient = deps.backendClient;
    this.#events = deps.events;
  }

  /** Takes the session out of its room; tells Nextcloud when `notify` and it had a room session id. */
  leave(session: ClientSession, notify: boolean): void {
    const room = session.room as Room | undefined;
    if (!room) return;
    const roomSessionId = session.roomSessionId;
    this.#roomSessions.delete(session);
    this.#events.leftRoom(session);
    room.removeSession(session);
    session.permissions = undefined;
    session.roomUserId = '';
    if (notify && roomSessionId !== undefined && (session.clientType === 'client' || session.clientType === 'federation')) {
      const body = {
        type: 'room',
        room: { version: '1.0', roomid: room.id, userid: session.userId, sessionid: roomSessionId, ...federatedActor(session), action: 'leave' },
      };
      // Fire and forget: upstream only logs the outcome of leave notifications.
      this.#backendClient.postJson(session.backendUrl, session.backend, body).catch((err: unknown) => {
        session.log.warn({ room: room.id, err: (err as Error).message }, 'room leave notification failed');
      });
    }
  }
}
