import { Registry } from 'prom-client';
import { silentLogger } from '@talk-signaling/runtime';
import type { Router } from '../delivery/router';
import type { ServerMessageObject } from '../delivery/async-message';
import { Room, type RemoteInternalSessions } from './room';
import { createRoomMetrics } from './room-metrics';

/** Lets queued promise callbacks run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * A room of a cluster node whose participants update waits for the other nodes' internal
 * sessions (gRPC): a virtual session's `flags` event published meanwhile must not overtake it.
 */
function clusterRoom(remote: () => Promise<RemoteInternalSessions>) {
  const published: ServerMessageObject[] = [];
  const subscription = { unsubscribe: () => undefined };
  const router = {
    subscribeRoom: () => subscription,
    subscribeRoomNodes: () => subscription,
    toRoom: (_room: string, _backend: string, message: ServerMessageObject) => published.push(message),
  } as unknown as Router;
  const room = new Room({
    id: 'room-1',
    backendId: 'nc1',
    properties: {},
    router,
    metrics: createRoomMetrics(new Registry()),
    log: silentLogger(),
    batchMs: 5,
    onEmpty: () => undefined,
    remoteInternalSessions: remote,
  });
  return { room, published, kinds: () => published.map((m) => (m['event'] as { type: string }).type) };
}

const FLAGS: ServerMessageObject = { type: 'event', event: { target: 'participants', type: 'flags', flags: { roomid: 'room-1', sessionid: 'v', flags: 1 } } };
const USERS = [{ sessionId: 'nc-user', inCall: 1 }];

describe('Room publish order in a cluster', () => {
  it('publishes a flags event asked for after a participants update only after that update', async () => {
    let answer!: (found: RemoteInternalSessions) => void;
    const { room, published, kinds } = clusterRoom(() => new Promise((resolve) => (answer = resolve)));
    room.publishParticipantsUpdate([], USERS);
    room.publishAfterUpdates(FLAGS);
    await settle();
    expect(published).toEqual([]);

    answer({ internal: [{ sessionId: 'bridge', inCall: 3, features: [] }], virtual: [] });
    await settle();
    expect(kinds()).toEqual(['update', 'flags']);
    expect((published[0]!['event'] as { update: { users: unknown[] } }).update.users).toEqual([
      { sessionId: 'nc-user', inCall: 1 },
      { sessionId: 'bridge', inCall: 3, lastPing: expect.any(Number), internal: true },
    ]);

    // Nothing waiting: published at once.
    room.publishAfterUpdates(FLAGS);
    expect(kinds()).toEqual(['update', 'flags', 'flags']);
    room.close();
  });

  it('does not hold back joins and leaves', async () => {
    let answer!: (found: RemoteInternalSessions) => void;
    const { room, kinds } = clusterRoom(() => new Promise((resolve) => (answer = resolve)));
    room.publishParticipantsUpdate([], USERS);
    room.publish({ type: 'event', event: { target: 'room', type: 'leave', leave: ['gone'] } });
    expect(kinds()).toEqual(['leave']);
    answer({ internal: [], virtual: [] });
    await settle();
    expect(kinds()).toEqual(['leave', 'update']);
    room.close();
  });

  it('keeps the order when the other nodes do not answer', async () => {
    const { room, kinds } = clusterRoom(() => Promise.reject(new Error('deadline exceeded')));
    room.publishParticipantsUpdate([], USERS);
    room.publishAfterUpdates(FLAGS);
    await settle();
    expect(kinds()).toEqual(['update', 'flags']);
    room.close();
  });
});
