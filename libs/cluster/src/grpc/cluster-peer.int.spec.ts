import { credentials } from '@grpc/grpc-js';
import { silentLogger } from '@talk-signaling/runtime';
import { FaultProxy, freePort, waitFor, waitForEvent } from '@talk-signaling/testing';
import { ClusterPeer } from './cluster-peer';
import { ClusterServer } from './cluster-server';
import { ClusterError } from './errors';
import { createServerId } from './server-id';
import { TestHandlers } from './test-handlers';

jest.setTimeout(30_000);

/**
 * Deadline of the calls below: far beyond the test's own timeout, so a call that waited for it
 * instead of answering at once fails the test (no timing is measured).
 */
const LONG_DEADLINE_MS = 120_000;

async function startServer(handlers: TestHandlers, listen = '127.0.0.1:0'): Promise<{ server: ClusterServer; port: number }> {
  const server = new ClusterServer({ listen, tls: {}, serverId: createServerId(), version: 'v1', handlers, logger: silentLogger() });
  return { server, port: await server.start() };
}

/**
 * A dead peer is told from a slow one: a refused connection fails calls at once, a peer whose
 * answers are held back (a real TCP path through a FaultProxy) gets the whole deadline.
 */
describe('ClusterPeer: a peer that is down answers at once, a slow one gets its deadline', () => {
  const handlers = new TestHandlers();
  handlers.resumeIds.set('r', 'public-r');

  it('refused: fails at once with unavailable, and is used again by itself once the node is back', async () => {
    const { port, ...first } = await startServer(handlers);
    let server = first.server;
    const peer = new ClusterPeer(`127.0.0.1:${port}`, credentials.createInsecure());
    try {
      expect(await peer.lookupResumeId('r', { timeoutMs: LONG_DEADLINE_MS })).toBe('public-r');
      expect(peer.reachable).toBe(true);

      await server.close();
      const down = waitForEvent(peer, 'down', { timeout: 10_000 });
      const err = await peer.lookupResumeId('r', { timeoutMs: LONG_DEADLINE_MS }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ClusterError);
      expect((err as ClusterError).code).toBe('unavailable');
      await down;
      expect(peer.reachable).toBe(false);
      // Known down: the next calls fail at once too.
      await expect(peer.getSessionCount('https://nc.invalid/', { timeoutMs: LONG_DEADLINE_MS })).rejects.toMatchObject({ code: 'unavailable' });

      // The node comes back on the same address: the peer reconnects without being asked to.
      const up = waitForEvent(peer, 'up', { timeout: 20_000 });
      ({ server } = await startServer(handlers, `127.0.0.1:${port}`));
      await up;
      expect(peer.reachable).toBe(true);
      expect(await peer.lookupResumeId('r', { timeoutMs: LONG_DEADLINE_MS })).toBe('public-r');
    } finally {
      peer.close();
      await server.close();
    }
  });

  it('never reached: the first call fails at once too', async () => {
    const peer = new ClusterPeer(`127.0.0.1:${await freePort()}`, credentials.createInsecure());
    try {
      await expect(peer.lookupResumeId('r', { timeoutMs: LONG_DEADLINE_MS })).rejects.toMatchObject({ code: 'unavailable' });
    } finally {
      peer.close();
    }
    await expect(peer.lookupResumeId('r')).rejects.toMatchObject({ code: 'unavailable', message: expect.stringContaining('closed') });
  });

  it('slow (answers held back): the call waits for the answer, and times out only at its deadline', async () => {
    const { server, port } = await startServer(handlers);
    const proxy = await FaultProxy.start({ port });
    const peer = new ClusterPeer(`127.0.0.1:${proxy.port}`, credentials.createInsecure());
    try {
      expect(await peer.lookupResumeId('r')).toBe('public-r');
      proxy.pause('from');
      const asked = handlers.seen.length;
      let settled = false;
      const pending = peer.lookupResumeId('r', { timeoutMs: LONG_DEADLINE_MS }).finally(() => (settled = true));
      // The peer got the question and answered; the answer is still on its way.
      await waitFor(() => handlers.seen.length > asked, { timeout: 10_000, name: 'the peer asked' });
      await peer.getServerId({ timeoutMs: 50 }).catch(() => undefined); // a short call ends at its deadline meanwhile
      expect(settled).toBe(false);
      expect(peer.reachable).toBe(true);
      proxy.resume('from');
      expect(await pending).toBe('public-r');

      // Blackholed both ways: a call ends at its deadline as deadline_exceeded, never as "down".
      proxy.pause('to');
      proxy.pause('from');
      await expect(peer.lookupResumeId('r', { timeoutMs: 300 })).rejects.toMatchObject({ code: 'deadline_exceeded' });
      expect(peer.reachable).toBe(true);
    } finally {
      peer.close();
      await proxy.close();
      await server.close();
    }
  });
});
