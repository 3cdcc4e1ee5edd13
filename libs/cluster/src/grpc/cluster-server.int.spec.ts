import { Metadata, credentials, makeGenericClientConstructor, status, type ServiceError } from '@grpc/grpc-js';
import { silentLogger } from '@talk-signaling/runtime';
import { waitFor } from '@talk-signaling/testing';
import { Registry } from 'prom-client';
import { GetInternalSessionsRequest, LookupResumeIdReply, RpcSessionsClient } from '../generated/sessions';
import { ClusterPeer } from './cluster-peer';
import { ClusterServer } from './cluster-server';
import { ClusterError } from './errors';
import { createGrpcMetrics, type GrpcMetrics } from './metrics';
import { createServerId } from './server-id';
import { TestHandlers } from './test-handlers';

jest.setTimeout(30_000);

describe('ClusterServer + ClusterPeer (loopback, unencrypted)', () => {
  const serverId = createServerId();
  let handlers: TestHandlers;
  let server: ClusterServer;
  let peer: ClusterPeer;
  let registry: Registry;
  let metrics: GrpcMetrics;
  let address: string;

  beforeAll(async () => {
    handlers = new TestHandlers();
    registry = new Registry();
    metrics = createGrpcMetrics(registry);
    server = new ClusterServer({ listen: '127.0.0.1:0', tls: {}, serverId, version: 'test-1', handlers, logger: silentLogger(), metrics });
    address = `127.0.0.1:${await server.start()}`;
    peer = new ClusterPeer(address, credentials.createInsecure(), undefined, metrics);
  });
  afterAll(async () => {
    peer?.close();
    await server?.close();
  });

  it('answers GetServerId with its id (SHA-256 hex) and version', async () => {
    expect(serverId).toMatch(/^[0-9a-f]{64}$/);
    expect(createServerId()).not.toBe(serverId);
    expect(await peer.getServerId()).toEqual({ serverId, version: 'test-1' });
    expect(peer.version).toBe('test-1');
  });

  it('maps lookups: found, and NOT_FOUND as "no result"', async () => {
    handlers.resumeIds.set('private-1', 'public-1');
    handlers.roomSessions.set('nc-room-session', 'public-2');
    expect(await peer.lookupResumeId('private-1')).toBe('public-1');
    expect(await peer.lookupResumeId('nope')).toBeUndefined();
    expect(await peer.lookupSessionId('nc-room-session', '')).toBe('public-2');
    expect(handlers.disconnected).toEqual([]);
    expect(await peer.lookupSessionId('nc-room-session', 'room_session_reconnected')).toBe('public-2');
    expect(handlers.disconnected).toEqual([{ sessionId: 'public-2', reason: 'room_session_reconnected' }]);
    expect(await peer.lookupSessionId('nope', 'x')).toBeUndefined();
  });

  it('IsSessionInCall: true, false, and unknown (false)', async () => {
    handlers.inCall.set('s-in', true).set('s-out', false);
    expect(await peer.isSessionInCall('s-in', 'room', 'https://nc.invalid/')).toBe(true);
    expect(await peer.isSessionInCall('s-out', 'room', 'https://nc.invalid/')).toBe(false);
    expect(await peer.isSessionInCall('s-unknown', 'room', 'https://nc.invalid/')).toBe(false);
    expect(handlers.seen).toContainEqual(['isSessionInCall', 's-in', 'room', 'https://nc.invalid/']);
  });

  it('GetInternalSessions: lists, the deprecated single URL and the compat backend', async () => {
    handlers.internal.set('room-a', {
      internal: [{ sessionId: 'int-1', inCall: 7, features: ['start-dialout'] }],
      virtual: [{ sessionId: 'virt-1', inCall: 3 }],
    });
    expect(await peer.getInternalSessions('room-a', ['https://nc1.invalid/', 'https://nc2.invalid/'])).toEqual({
      internal: [{ sessionId: 'int-1', inCall: 7, features: ['start-dialout'] }],
      virtual: [{ sessionId: 'virt-1', inCall: 3 }],
    });
    expect(handlers.seen).toContainEqual(['getInternalSessions', 'room-a', ['https://nc1.invalid/', 'https://nc2.invalid/']]);
    expect(await peer.getInternalSessions('room-missing', [])).toEqual({ internal: [], virtual: [] });
    expect(handlers.seen).toContainEqual(['getInternalSessions', 'room-missing', ['']]);

    // An older node sends only the deprecated single URL.
    const raw = new RpcSessionsClient(address, credentials.createInsecure());
    try {
      await new Promise<void>((resolve, reject) =>
        raw.getInternalSessions(GetInternalSessionsRequest.fromPartial({ roomId: 'room-old', backendUrl: 'https://old.invalid/' }), (err) => (err && err.code !== status.NOT_FOUND ? reject(err) : resolve())),
      );
    } finally {
      raw.close();
    }
    expect(handlers.seen).toContainEqual(['getInternalSessions', 'room-old', ['https://old.invalid/']]);
  });

  it('GetSessionCount: count, unknown backend (0); a throwing handler gives INTERNAL and the server keeps serving', async () => {
    handlers.counts.set('https://nc.invalid/', 42);
    expect(await peer.getSessionCount('https://nc.invalid/')).toBe(42);
    expect(await peer.getSessionCount('https://other.invalid/')).toBe(0);
    const err = await peer.getSessionCount('throw').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClusterError);
    expect((err as ClusterError).code).toBe('internal');
    expect(await peer.getSessionCount('https://nc.invalid/')).toBe(42);
  });

  it('GetTransientData: JSON values and expiry (ms ↔ µs on the wire)', async () => {
    const expires = Date.now() + 60_000;
    handlers.transient.set('room-t', { a: { value: { nested: [1, 'two'] } }, b: { value: 'x', expires } });
    expect(await peer.getTransientData('room-t', ['https://nc.invalid/'])).toEqual({ a: { value: { nested: [1, 'two'] } }, b: { value: 'x', expires } });
    expect(await peer.getTransientData('room-none', [])).toEqual({});
    expect(handlers.seen).toContainEqual(['getTransientData', 'room-none', ['']]);
  });

  it('GetPublisherId: found; a waiting lookup ends at the caller deadline and the server sees the cancel', async () => {
    const info = { publisherId: 'pub', proxyUrl: 'https://proxy.invalid/', ip: '192.0.2.1', connectToken: 'ct', publisherToken: 'pt' };
    handlers.publishers.set('s1/video', info);
    expect(await peer.getPublisherId('s1', 'video')).toEqual(info);
    expect(await peer.getPublisherId('s1', 'screen')).toBeUndefined();
    const err = await peer.getPublisherId('wait', 'video', { timeoutMs: 200 }).catch((e: unknown) => e);
    expect((err as ClusterError).code).toBe('deadline_exceeded');
    expect((err as ClusterError).retryable).toBe(true);
    await waitFor(() => handlers.publisherWaitAborted === 1, { timeout: 5_000, name: 'server-side cancel' });
  });

  it('a caller abort cancels the call', async () => {
    const abort = new AbortController();
    const pending = peer.getPublisherId('wait', 'video', { timeoutMs: 10_000, signal: abort.signal }).catch((e: unknown) => e);
    abort.abort();
    expect(((await pending) as ClusterError).code).toBe('cancelled');
  });

  it('ProxySession: metadata keys, messages both ways, close from the client', async () => {
    const relay = peer.proxySession({ sessionId: 'sess-1', remoteAddr: '192.0.2.7', country: 'DE', userAgent: 'test/1.0' });
    const received: string[] = [];
    relay.on('message', (m) => received.push(m.toString()));
    relay.send('{"type":"hello"}');
    relay.send(Buffer.from('{"type":"bye"}'));
    await waitFor(() => received.length === 2, { timeout: 5_000, name: 'echoes' });
    expect(received).toEqual(['echo:{"type":"hello"}', 'echo:{"type":"bye"}']);
    const stream = handlers.proxied.at(-1)!;
    expect(stream.info).toEqual({ sessionId: 'sess-1', remoteAddr: '192.0.2.7', country: 'DE', userAgent: 'test/1.0' });
    const closed = new Promise<unknown>((resolve) => relay.once('close', resolve));
    relay.close();
    expect(await closed).toBeUndefined();
    await waitFor(() => stream.closed, { timeout: 5_000, name: 'server side closed' });
  });

  it('ProxySession: the server can refuse with a code', async () => {
    const relay = peer.proxySession({ sessionId: 'unknown', remoteAddr: '', country: '', userAgent: '' });
    const err = await new Promise<ClusterError | undefined>((resolve) => relay.once('close', resolve));
    expect(err?.code).toBe('not_found');
    expect(relay.send('x')).toBe(false);
  });

  it('a request that is not protobuf gets an error status, and the server keeps answering', async () => {
    const Garbage = makeGenericClientConstructor(
      {
        lookupResumeId: {
          path: '/grpc.RpcSessions/LookupResumeId',
          requestStream: false,
          responseStream: false,
          requestSerialize: (b: Buffer) => b,
          requestDeserialize: (b: Buffer) => b,
          responseSerialize: (r: LookupResumeIdReply) => Buffer.from(LookupResumeIdReply.encode(r).finish()),
          responseDeserialize: (b: Buffer) => LookupResumeIdReply.decode(b),
        },
      },
      'Garbage',
    );
    const client = new Garbage(address, credentials.createInsecure()) as unknown as {
      lookupResumeId(b: Buffer, m: Metadata, cb: (err: ServiceError | null) => void): void;
      close(): void;
    };
    try {
      const err = await new Promise<ServiceError | null>((resolve) => client.lookupResumeId(Buffer.from([0xff, 0xff, 0xff, 0x0f, 0x0a]), new Metadata(), resolve));
      expect(err?.code).not.toBe(status.OK);
      expect(err?.code).toBeDefined();
    } finally {
      client.close();
    }
    expect(await peer.lookupResumeId('private-1')).toBe('public-1');
  });

  it('counts calls under upstream metric names', async () => {
    const text = await registry.metrics();
    expect(text).toMatch(/signaling_grpc_server_calls_total\{method="GetServerId"\} [1-9]/);
    expect(text).toMatch(/signaling_grpc_server_calls_total\{method="SessionCount"\} [1-9]/);
    expect(text).toMatch(/signaling_grpc_client_calls_total\{method="GetSessionCount"\} [1-9]/);
    expect(text).toMatch(/signaling_grpc_client_calls_total\{method="ProxySession"\} [1-9]/);
  });
});
