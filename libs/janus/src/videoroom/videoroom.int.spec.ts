import { Registry } from 'prom-client';
import { publisherOffer, recvonlyAnswer, startJanus, type ManagedProcess, waitFor, waitForEvent } from '@talk-signaling/testing';
import { JanusError, VideoRoomErrorCode } from '../gateway/errors';
import { JanusConnection } from '../gateway/janus-connection';
import type { JanusHandle } from '../gateway/janus-handle';
import type { JanusSession } from '../gateway/janus-session';
import { createVideoRoomMetrics } from './metrics';
import { VideoRoomPublisher } from './publisher';
import { VideoRoomSubscriber } from './subscriber';
import { DuplicatePublisherError, VideoRoomRegistry } from './videoroom-registry';
import { FEED_IDS, VIDEOROOM_PLUGIN } from './videoroom-types';

jest.setTimeout(30_000);

describe('VideoRoom against a real Janus', () => {
  let janus: ManagedProcess;
  let conn: JanusConnection;
  let session: JanusSession;
  let control: JanusHandle;

  const roomExists = async (room: number): Promise<boolean> => {
    const reply = await control.request({ request: 'exists', room });
    return reply['exists'] === true;
  };

  /**
   * A room with a feed subscribers can join. A WebRTC publisher only becomes a joinable feed
   * once its PeerConnection is up (428 before), which needs real media; a Janus 1.1 remote
   * publisher (`add_remote_publisher`) is a feed at once.
   */
  const feedRoom = async (feedId: number, withFeed = true): Promise<number> => {
    const room = (await control.request({ request: 'create', publishers: 1, description: 'feed|test' }))['room'] as number;
    if (withFeed) await addRemoteFeed(room, feedId);
    return room;
  };
  const addRemoteFeed = async (room: number, feedId: number): Promise<void> => {
    await control.request({
      request: 'add_remote_publisher',
      room,
      id: feedId,
      streams: [
        { type: 'audio', mid: '0', mindex: 0, codec: 'opus' },
        { type: 'video', mid: '1', mindex: 1, codec: 'vp8' },
      ],
    });
  };

  beforeAll(async () => {
    janus = await startJanus();
    conn = await JanusConnection.connect({ url: janus.url });
    session = await conn.createSession();
    control = await session.attach(VIDEOROOM_PLUGIN);
  });
  afterAll(async () => {
    await conn?.close();
    await janus?.stop();
  });

  it('publishes: room per stream, offer → answer, trickle, close destroys the room', async () => {
    const publisher = await VideoRoomPublisher.create(session, {
      publisherId: 'pub-1',
      streamType: 'video',
      bitrate: 500_000,
      audioCodec: 'opus',
      videoCodec: 'vp8,vp9,h264',
      vp9Profile: '2',
      h264Profile: '42e01f',
    });
    expect(publisher.roomId).toBeGreaterThan(0);
    expect(publisher.feedId).toBe(1);
    expect(publisher.sid).toBe(String(publisher.handleId));
    expect(await roomExists(publisher.roomId)).toBe(true);
    const list = await control.request({ request: 'list' });
    const room = (list['list'] as { room: number; description: string; bitrate: number; max_publishers: number }[]).find(
      (r) => r.room === publisher.roomId,
    );
    expect(room).toMatchObject({ description: 'pub-1|video', bitrate: 500_000, max_publishers: 1 });

    const answer = await publisher.offer({ type: 'offer', sdp: publisherOffer() });
    expect(answer.type).toBe('answer');
    expect(answer.sdp).toContain('m=audio');
    expect(answer.sdp).toContain('m=video');
    expect(answer.sdp).toMatch(/a=recvonly/);
    expect(publisher.answerSdp).toBe(answer.sdp);

    await publisher.trickle({ candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host', sdpMid: '0', sdpMLineIndex: 0 });
    await publisher.trickleCompleted();

    // Renegotiation (update-sdp): a second offer on the same handle.
    const again = await publisher.offer({ type: 'offer', sdp: publisherOffer() });
    expect(again.type).toBe('answer');

    const closed = waitForEvent(publisher, 'close', { timeout: 5_000 });
    const roomId = publisher.roomId;
    await publisher.close();
    expect(await closed).toEqual([undefined]);
    expect(publisher.closed).toBe(true);
    expect(await roomExists(roomId)).toBe(false);
    expect(session.handles.has(publisher.handleId)).toBe(false);
  });

  it('subscribes: join with streams=[{feed}] → offer, start with a recvonly answer, configure, renegotiate', async () => {
    const room = await feedRoom(FEED_IDS.screen);
    const subscriber = await VideoRoomSubscriber.create(session, { roomId: room, feedId: FEED_IDS.screen });
    expect(subscriber.joined).toBe(false);
    const offer = await subscriber.requestOffer();
    expect(subscriber.joined).toBe(true);
    expect(offer.type).toBe('offer');
    expect(offer.sdp).toContain('m=video');
    expect(offer.sdp).toMatch(/a=sendonly/);

    await subscriber.start({ type: 'answer', sdp: recvonlyAnswer(offer.sdp) });
    await subscriber.selectStream({ substream: 0, temporal: 1, audio: true, video: true });
    await subscriber.selectStream({}); // no-op
    await subscriber.trickle({ candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 50001 typ host', sdpMid: '0', sdpMLineIndex: 0 });

    // Same sid: renegotiation via configure update=true; ICE restart via configure restart=true.
    const renegotiated = await subscriber.requestOffer({ audio: true }, subscriber.sid);
    expect(renegotiated.type).toBe('offer');
    await subscriber.start({ type: 'answer', sdp: recvonlyAnswer(renegotiated.sdp) });
    const restarted = await subscriber.restartIce();
    expect(restarted.type).toBe('offer');

    await subscriber.close();
    expect(subscriber.closed).toBe(true);
    expect(session.handles.has(subscriber.handleId)).toBe(false);
    await control.request({ request: 'destroy', room });
  });

  it('re-attaches on 425 (already joined) and reports the new sid', async () => {
    const room = await feedRoom(FEED_IDS.video);
    const subscriber = await VideoRoomSubscriber.create(session, { roomId: room, feedId: FEED_IDS.video });
    await subscriber.join();
    const oldSid = subscriber.sid;
    const sid = waitForEvent<[string]>(subscriber, 'sid', { timeout: 5_000 });
    // Joining again on the same handle is what makes Janus answer 425.
    const offer = await subscriber.join();
    expect(offer.type).toBe('offer');
    const [newSid] = await sid;
    expect(newSid).not.toBe(oldSid);
    expect(subscriber.sid).toBe(newSid);
    expect(session.handles.has(Number(oldSid))).toBe(false);
    await subscriber.close();
    await control.request({ request: 'destroy', room });
  });

  it('gives up with JanusError 426 for a room that never appears, after waiting', async () => {
    const subscriber = await VideoRoomSubscriber.create(session, { roomId: 987654321, feedId: 1, joinTimeoutMs: 300 });
    const waiting = waitForEvent<[number]>(subscriber, 'waiting', { timeout: 2_000 });
    const started = Date.now();
    const err = (await subscriber.join().catch((e: unknown) => e)) as JanusError;
    expect(err).toBeInstanceOf(JanusError);
    expect(err.code).toBe(VideoRoomErrorCode.NoSuchRoom);
    expect(err.retryable).toBe(true);
    expect(await waiting).toEqual([426]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    await subscriber.close();
  });

  it('retries a join until the feed appears (428 → offer)', async () => {
    const room = await feedRoom(FEED_IDS.video, false);
    const subscriber = await VideoRoomSubscriber.create(session, { roomId: room, feedId: FEED_IDS.video, joinTimeoutMs: 5_000 });
    const codes: number[] = [];
    subscriber.on('waiting', (code) => codes.push(code));
    const joined = subscriber.join();
    await waitFor(() => codes.length > 0, { timeout: 3_000, name: 'subscriber waiting' });
    await addRemoteFeed(room, FEED_IDS.video);
    const offer = await joined;
    expect(offer.type).toBe('offer');
    expect(codes).toEqual([VideoRoomErrorCode.NoSuchFeed]);
    await subscriber.close();
    await control.request({ request: 'destroy', room });
  });

  it('closes the publisher when its room is destroyed from outside', async () => {
    // Janus sends `destroyed` to the room's participants (publishers); a subscriber whose
    // PeerConnection never came up gets no event at all (checked against 1.1.2).
    const publisher = await VideoRoomPublisher.create(session, { publisherId: 'pub-5', streamType: 'video', bitrate: 300_000 });
    await publisher.offer({ type: 'offer', sdp: publisherOffer() });
    const pubClosed = waitForEvent<[Error?]>(publisher, 'close', { timeout: 5_000 });
    await control.request({ request: 'destroy', room: publisher.roomId });
    expect((await pubClosed)[0]?.message).toMatch(/destroyed/);
    expect(publisher.roomId).toBe(0);
    await waitFor(() => !session.handles.has(publisher.handleId), { timeout: 2_000, name: 'publisher handle detached' });
  });

  it('registry: one publisher per (owner, stream type), closeOwner, metrics, reconcile of orphan rooms', async () => {
    const promRegistry = new Registry();
    const metrics = createVideoRoomMetrics(promRegistry);
    const registry = new VideoRoomRegistry({ metrics });
    const pub = await registry.createPublisher(session, { publisherId: 'owner-a', streamType: 'video', bitrate: 200_000 });
    await expect(registry.createPublisher(session, { publisherId: 'owner-a', streamType: 'video', bitrate: 200_000 })).rejects.toBeInstanceOf(
      DuplicatePublisherError,
    );
    await pub.offer({ type: 'offer', sdp: publisherOffer() });
    const sub = await registry.createSubscriber(session, { owner: 'owner-b', publisherId: 'owner-a', streamType: 'video', joinTimeoutMs: 300 });
    // Without real media the publisher never gets `webrtcup`, so its feed stays unjoinable (428):
    // the subscriber waits, counts signaling_mcu_nopublisher_total, then gives up.
    const err = (await sub.requestOffer().catch((e: unknown) => e)) as JanusError;
    expect(err.code).toBe(VideoRoomErrorCode.NoSuchFeed);
    expect((await metrics.noPublisherTotal.get()).values).toEqual([{ labels: { type: 'video' }, value: 1 }]);
    expect(registry.publisherCount).toBe(1);
    expect(registry.subscriberCount).toBe(1);
    expect((await metrics.publishers.get()).values).toEqual([{ labels: { type: 'video' }, value: 1 }]);
    expect((await metrics.subscribersTotal.get()).values).toEqual([{ labels: { type: 'video' }, value: 1 }]);

    // A leaked room: created by a handle that went away without destroying it.
    const leakHandle = await session.attach(VIDEOROOM_PLUGIN);
    const leaked = (await leakHandle.request({ request: 'create', description: 'gone|screen', publishers: 1 }))['room'] as number;
    await leakHandle.detach();

    const first = await registry.reconcile(control);
    expect(first.destroyed).toEqual([]); // first sighting only marks it
    expect(first.rooms).toBeGreaterThanOrEqual(2);
    const second = await registry.reconcile(control);
    expect(second.destroyed).toEqual([leaked]);
    expect(await roomExists(leaked)).toBe(false);
    expect(await roomExists(pub.roomId)).toBe(true);

    const roomId = pub.roomId;
    await registry.closeOwner('owner-b');
    expect(registry.subscriberCount).toBe(0);
    await registry.closeOwner('owner-a');
    expect(registry.publisherCount).toBe(0);
    expect(await roomExists(roomId)).toBe(false);
    expect((await metrics.publishers.get()).values).toEqual([{ labels: { type: 'video' }, value: 0 }]);
    expect((await metrics.subscribers.get()).values).toEqual([{ labels: { type: 'video' }, value: 0 }]);
    expect((await metrics.orphanRoomsDestroyedTotal.get()).values[0]?.value).toBe(1);
  });
});
