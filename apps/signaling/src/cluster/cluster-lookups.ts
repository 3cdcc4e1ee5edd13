import type { ProxySessionClient } from '@talk-signaling/cluster';
import type { ConnectionInfo } from '../connection/client-connection';

/**
 * What the hub asks other signaling nodes (implemented by {@link ClusterNode}). Every method
 * answers within upstream's deadline; a peer that fails or is slow counts as "nothing there".
 */
export interface ClusterLookups {
  /** Whether there are other nodes to ask (callers skip the round trip otherwise). */
  readonly hasPeers: boolean;
  /** Client sessions of the backend of `backendUrl` on the other nodes (`GetSessionCount`, 1 s). */
  remoteSessionCount(backendUrl: string): Promise<number>;
  /**
   * Closes the session with this Nextcloud room session id on whichever other node has it
   * (`LookupSessionId` with `room_session_reconnected`, 1 s); resolves with its public id.
   */
  disconnectRemoteRoomSession(roomSessionId: string): Promise<string | undefined>;
  /**
   * Finds the node holding the session with this resume (private) id (`LookupResumeId`, 5 s)
   * and opens a relay to it (`ProxySession`) for the client described by `info`.
   */
  openRemoteSession(resumeId: string, info: ConnectionInfo): Promise<ProxySessionClient | undefined>;
}
