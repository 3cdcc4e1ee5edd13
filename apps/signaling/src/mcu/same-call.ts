import { InCallFlag } from '@talk-signaling/protocol';
import type { SessionRegistry } from '../hub/session-registry';
import type { ClientSession } from '../session/client-session';

/** Other signaling nodes asked about a session they hold (upstream `IsSessionInCall` on every peer; one "yes" is enough). */
export interface RemoteCallCheck {
  sessionInCall(sessionId: string, roomId: string, backendUrl: string): Promise<boolean>;
}

/**
 * Upstream `isInSameCall`, the check of `requestoffer` without `[app] allowsubscribeany`:
 * internal senders may subscribe to anything; anyone else must be in a room and in its call,
 * and the publisher in the same room of the same backend and in the call (an internal
 * publisher needs no call). A publisher this node does not hold is asked of the other nodes.
 */
export async function inSameCall(
  sender: ClientSession,
  targetId: string,
  sessions: Pick<SessionRegistry, 'byPublicId'>,
  remote: RemoteCallCheck | undefined,
): Promise<boolean> {
  if (sender.clientType === 'internal') return true;
  const room = sender.room;
  if (!room || !(sender.inCall & InCallFlag.InCall)) return false;
  const target = sessions.byPublicId(targetId);
  if (!target) return remote ? remote.sessionInCall(targetId, room.id, sender.backendUrl) : false;
  const targetRoom = target.room;
  if (!targetRoom || targetRoom.id !== room.id || targetRoom.backendId !== room.backendId) return false;
  return target.clientType === 'internal' || (target.inCall & InCallFlag.InCall) !== 0;
}
