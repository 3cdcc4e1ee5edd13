/** What {@link federatedActor} reads from a session (satisfied by `ClientSession`). */
export interface ActorSession {
  readonly clientType: string;
  /** `userdata` of the hello 2.0 token. */
  readonly user: unknown;
}

/**
 * The `actorid`/`actortype` to add to `room` backend requests (join and leave) of a federated
 * session (upstream `BackendClientRoomRequest.UpdateFromSession`): taken from the token's
 * `userdata.actorId`/`actorType`, only when both are strings. Empty for every other session.
 */
export function federatedActor(session: ActorSession): { actorid?: string; actortype?: string } {
  if (session.clientType !== 'federation') return {};
  const user = session.user;
  if (typeof user !== 'object' || user === null) return {};
  const { actorId, actorType } = user as { actorId?: unknown; actorType?: unknown };
  if (typeof actorId !== 'string' || typeof actorType !== 'string') return {};
  return { actorid: actorId, actortype: actorType };
}
