import { publisherOffer, startJanus, type ManagedProcess } from '@talk-signaling/testing';
import { JanusError, VideoRoomErrorCode } from '../gateway/errors';
import { JanusConnection } from '../gateway/janus-connection';
import type { JanusHandle } from '../gateway/janus-handle';
import type { JanusSession } from '../gateway/janus-session';
import { VideoRoomPublisher } from './publisher';
import { VideoRoomSubscriber } from './subscriber';
import { VideoRoomRegistry } from './videoroom-registry';
import { VIDEOROOM_PLUGIN } from './videoroom-types';

jest.setTimeout(30_000);

/** Janus 1.1 remote publishers: a publisher on one Janus forwarded to a room on another. */
describe('remote publishers across two real Janus', () => {
  let janusA: ManagedProcess;
  let janusB: ManagedProcess;
  let connA: JanusConnection;
  let connB: JanusConnection;
  let sessionA: JanusSession;
  let sessionB: JanusSession;
  let controlB: JanusHandle;

  const roomExists = async (room: number): Promise<boolean> => (await controlB.request({ request: 'exists', room }))['exists'] === true;

  beforeAll(async () => {
    [janusA, janusB] = await Promise.all([startJanus(), startJanus()]);
    [connA, connB] = await Promise.all([JanusConnection.connect({ url: janusA.url }), JanusConnection.connect({ url: janusB.url })]);
    [sessionA, sessionB] = await Promise.all([connA.createSession(), connB.createSession()]);
    controlB = await sessionB.attach(VIDEOROOM_PLUGIN);
  });
  afterAll(async () => {
    await Promise.all([connA?.close(), connB?.close()]);
    await Promise.all([janusA?.stop(), janusB?.stop()]);
  });

  it('streams from SDP, remote publisher with ports, publish_remotely (twice: 436 replaced), subscriber joins, reconcile spares it, close removes it', async () => {
    const publisher = await VideoRoomPublisher.create(sessionA, { publisherId: 'pub', streamType: 'video', bitrate: 500_000 });
    expect(publisher.streams()).toBeUndefined();
    await publisher.offer({ type: 'offer', sdp: publisherOffer() });
    const streams = publisher.streams()!;
    expect(streams.map((s) => `${s.type}:${s.codec}`)).toEqual(['audio:opus', 'video:VP8']);

    const registry = new VideoRoomRegistry();
    const remote = await registry.createRemotePublisher(sessionB, { publisherId: 'pub', streamType: 'video', bitrate: 500_000, streams });
    expect(remote.port).toBeGreaterThan(0);
    expect(remote.rtcpPort).toBeGreaterThan(0);
    expect(registry.remotePublisherCount).toBe(1);

    const forwarding = { remoteId: 'pub-b@127.0.0.1', host: '127.0.0.1', port: remote.port, rtcpPort: remote.rtcpPort };
    await publisher.publishRemotely(forwarding);
    // Same id again: Janus answers 436 (checked on a plain handle)…
    const controlA = await sessionA.attach(VIDEOROOM_PLUGIN);
    const duplicate = await controlA
      .request({ request: 'publish_remotely', room: publisher.roomId, publisher_id: publisher.feedId, remote_id: forwarding.remoteId, host: '127.0.0.1', port: remote.port, rtcp_port: remote.rtcpPort })
      .catch((err: unknown) => err);
    expect(duplicate).toBeInstanceOf(JanusError);
    expect((duplicate as JanusError).code).toBe(VideoRoomErrorCode.IdExists);
    await controlA.detach();
    // …and the publisher replaces the old forwarding instead of failing.
    await publisher.publishRemotely(forwarding);

    // The remote feed is joinable at once (no WebRTC needed on B).
    const subscriber = await VideoRoomSubscriber.create(sessionB, { roomId: remote.roomId, feedId: remote.feedId });
    const offer = await subscriber.requestOffer();
    expect(offer.sdp).toContain('m=video');

    // Two reconciliation runs: the remote publisher's room counts as owned.
    await registry.reconcile(controlB);
    expect((await registry.reconcile(controlB)).destroyed).toEqual([]);
    expect(await roomExists(remote.roomId)).toBe(true);

    await publisher.unpublishRemotely(forwarding.remoteId);
    await subscriber.close();
    await remote.close();
    expect(await roomExists(remote.roomId)).toBe(false);
    expect(registry.remotePublisherCount).toBe(0);
    await publisher.close();
  });
});
