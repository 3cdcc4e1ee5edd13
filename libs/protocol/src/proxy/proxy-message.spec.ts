import { parseProxyClientMessage } from './proxy-client-message';
import { parseProxyServerMessage } from './proxy-server-message';

const json = (value: unknown): string => JSON.stringify(value);

describe('proxy client messages (5.6)', () => {
  it.each([
    [{ id: '1', type: 'hello', hello: { version: '1.0', features: [], token: 'jwt' } }],
    [{ id: '2', type: 'hello', hello: { version: '1.0', resumeid: 'proxy-session' } }],
    [{ type: 'bye', bye: {} }],
    [{ id: '3', type: 'command', command: { type: 'create-publisher', sid: 's', streamType: 'video', bitrate: 1048576, mediatypes: 3 } }],
    [{ id: '4', type: 'command', command: { type: 'create-subscriber', publisherId: 'p', streamType: 'video' } }],
    [{ id: '5', type: 'command', command: { type: 'create-subscriber', publisherId: 'p', streamType: 'screen', remoteUrl: 'wss://other/proxy', remoteToken: 't' } }],
    [{ id: '6', type: 'command', command: { type: 'delete-publisher', clientId: 'c' } }],
    [{ id: '7', type: 'command', command: { type: 'publish-remote', clientId: 'c', hostname: 'h', port: 1, rtcpPort: 2 } }],
    [{ id: '8', type: 'command', command: { type: 'get-publisher-streams', clientId: 'c' } }],
    [{ id: '9', type: 'payload', payload: { type: 'offer', clientId: 'c', sid: 's', payload: { type: 'offer', sdp: 'v=0' } } }],
    [{ id: '10', type: 'payload', payload: { type: 'endOfCandidates', clientId: 'c' } }],
  ])('accepts %j', (message) => {
    const result = parseProxyClientMessage(json(message));
    expect(result.ok ? undefined : result.error.reason).toBeUndefined();
  });

  it.each([
    [{ id: 'a', type: 'hello', hello: { version: '2.0', token: 't' } }, 'hello.version'],
    [{ id: 'a', type: 'hello', hello: { version: '1.0' } }, 'hello.token'],
    [{ id: 'a', type: 'command', command: { type: 'create-publisher' } }, 'command.streamType'],
    [{ id: 'a', type: 'command', command: { type: 'create-subscriber', streamType: 'video' } }, 'command.publisherId'],
    [{ id: 'a', type: 'command', command: { type: 'create-subscriber', publisherId: 'p', streamType: 'video', remoteUrl: 'x' } }, 'command.remoteToken'],
    [{ id: 'a', type: 'command', command: { type: 'delete-subscriber' } }, 'command.clientId'],
    [{ id: 'a', type: 'payload', payload: { type: 'offer', clientId: 'c' } }, 'payload.payload'],
    [{ id: 'a', type: 'payload', payload: { type: 'requestoffer' } }, 'payload.clientId'],
  ])('rejects %j', (message, path) => {
    const result = parseProxyClientMessage(json(message));
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe('invalid_format');
      expect(result.id).toBe('a');
      expect(result.error.reason).toContain(path);
    }
  });
});

describe('proxy server messages (5.6)', () => {
  it.each([
    [{ id: '1', type: 'hello', hello: { version: '1.0', sessionid: 's', server: { version: '1.3.0', country: 'DE' } } }],
    [{ type: 'bye', bye: { reason: 'session_resumed' } }],
    [{ id: '3', type: 'command', command: { id: 'uuid', bitrate: 1000 } }],
    [{ id: '4', type: 'command', command: { id: 'uuid', sid: 'sub' } }],
    [{ id: '8', type: 'command', command: { id: 'uuid', streams: [{ mid: '0', mindex: 0, type: 'video', codec: 'vp8', simulcast: true }] } }],
    [{ id: '9', type: 'payload', payload: { type: 'offer', clientId: 'c', payload: { type: 'answer', sdp: 'v=0' } } }],
    [{ id: '10', type: 'payload', payload: { type: 'endOfCandidates', clientId: 'c', payload: null } }],
    [{ type: 'event', event: { type: 'update-load', load: 12, bandwidth: { incoming: 1.5, outgoing: 3 } } }],
    [{ type: 'event', event: { type: 'subscriber-sid-updated', clientId: 'c', sid: 's2' } }],
    [{ type: 'event', event: { type: 'backend-disconnected' } }],
    [{ id: '1', type: 'error', error: { code: 'no_such_session', message: 'The session to resume does not exist.' } }],
  ])('accepts %j', (message) => {
    const result = parseProxyServerMessage(json(message));
    expect(result.ok ? undefined : result.reason).toBeUndefined();
  });

  it('rejects malformed frames', () => {
    expect(parseProxyServerMessage('{"type":"hello","hello":{"version":"1.0"}}').ok).toBe(false);
    expect(parseProxyServerMessage('nope').ok).toBe(false);
  });
});
