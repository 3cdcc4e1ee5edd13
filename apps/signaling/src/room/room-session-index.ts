import type { ClientSession } from '../session/client-session';

/**
 * Nextcloud room session id -> signaling session, per backend. Used to kick a stale session when
 * the same Nextcloud session joins again (`room_session_reconnected`) and to translate the
 * session ids in Nextcloud's backend requests to signaling ids.
 */
export class RoomSessionIndex {
  readonly #byRoomSession = new Map<string, ClientSession>();
  /** Room session id alone -> the latest session (the cluster's `LookupSessionId` has no backend). */
  readonly #byId = new Map<string, ClientSession>();

  get(backendId: string, roomSessionId: string): ClientSession | undefined {
    return this.#byRoomSession.get(`${backendId}|${roomSessionId}`);
  }

  /** The session that joined last with this Nextcloud room session id, whatever its backend. */
  find(roomSessionId: string): ClientSession | undefined {
    return this.#byId.get(roomSessionId);
  }

  set(session: ClientSession, roomSessionId: string): void {
    this.delete(session);
    session.roomSessionId = roomSessionId;
    this.#byRoomSession.set(`${session.backend.id}|${roomSessionId}`, session);
    this.#byId.set(roomSessionId, session);
  }

  /** Forgets the session's current room session id (if it is still the registered one). */
  delete(session: ClientSession): void {
    const id = session.roomSessionId;
    if (id === undefined) return;
    const k = `${session.backend.id}|${id}`;
    if (this.#byRoomSession.get(k) === session) this.#byRoomSession.delete(k);
    if (this.#byId.get(id) === session) this.#byId.delete(id);
    session.roomSessionId = undefined;
  }
}
