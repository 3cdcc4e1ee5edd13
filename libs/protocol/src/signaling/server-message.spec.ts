import { parseServerMessage, ServerMessageSchema } from './server-message';

const valid = (value: unknown): boolean => ServerMessageSchema.safeParse(value).success;

describe('ServerMessageSchema: examples of the fact sheet', () => {
  it.each([
    ['welcome', { type: 'welcome', welcome: { version: '2.0.0', features: ['dialout', 'hello-v2', 'welcome'] } }],
    ['welcome with country', { type: 'welcome', welcome: { version: '1', features: ['a'], country: 'DE' } }],
    [
      'hello',
      {
        id: 'h',
        type: 'hello',
        hello: { version: '1.0', sessionid: 'pub', resumeid: 'priv', userid: '', server: { version: '1', features: ['welcome'] } },
      },
    ],
    ['bye reply', { id: 'x', type: 'bye' }],
    ['bye with reason', { type: 'bye', bye: { reason: 'hello_timeout' } }],
    ['error', { type: 'error', error: { code: 'invalid_format', message: 'Invalid data format.' } }],
    [
      'already_joined',
      { id: '1', type: 'error', error: { code: 'already_joined', message: 'Already joined this room.', details: { room: { roomid: 'a' } } } },
    ],
    ['room join', { id: 'r', type: 'room', room: { roomid: 'abc', properties: { name: 'x' } } }],
    ['room leave', { type: 'room', room: { roomid: '' } }],
    [
      'room join event',
      {
        type: 'event',
        event: {
          target: 'room',
          type: 'join',
          join: [
            { sessionid: 'a', userid: '' },
            { sessionid: 'b', userid: 'u', user: { displayname: 'U' }, roomsessionid: 'nc', features: ['chat-relay'], federated: true },
          ],
        },
      },
    ],
    ['room leave event', { type: 'event', event: { target: 'room', type: 'leave', leave: ['a'] } }],
    [
      'room message event',
      { type: 'event', event: { target: 'room', type: 'message', message: { roomid: 'r', data: { type: 'chat', chat: { refresh: true } } } } },
    ],
    ['switchto', { type: 'event', event: { target: 'room', type: 'switchto', switchto: { roomid: 'r2', details: { a: 1 } } } }],
    ['delete', { type: 'event', event: { target: 'room', type: 'delete' } }],
    ['federation_interrupted', { type: 'event', event: { target: 'room', type: 'federation_interrupted' } }],
    ['federation_resumed', { type: 'event', event: { target: 'room', type: 'federation_resumed', resumed: false } }],
    ['roomlist invite', { type: 'event', event: { target: 'roomlist', type: 'invite', invite: { roomid: 'r', properties: {} } } }],
    [
      'roomlist disinvite',
      { type: 'event', event: { target: 'roomlist', type: 'disinvite', disinvite: { roomid: 'r', reason: 'deleted' } } },
    ],
    ['roomlist update', { type: 'event', event: { target: 'roomlist', type: 'update', update: { roomid: 'r', properties: {} } } }],
    [
      'participants update',
      {
        type: 'event',
        event: {
          target: 'participants',
          type: 'update',
          update: { roomid: 'r', users: [{ inCall: 3, sessionId: 'p', lastPing: 1, internal: true }] },
        },
      },
    ],
    [
      'participants update all',
      { type: 'event', event: { target: 'participants', type: 'update', update: { roomid: 'r', incall: 0, all: true } } },
    ],
    [
      'participants flags',
      { type: 'event', event: { target: 'participants', type: 'flags', flags: { roomid: 'r', sessionid: 'v', flags: 5 } } },
    ],
    [
      'message',
      { type: 'message', message: { sender: { type: 'session', sessionid: 'a', userid: 'u' }, recipient: { type: 'session', sessionid: 'b' }, data: 'x' } },
    ],
    ['message to call', { type: 'message', message: { sender: { type: 'call', sessionid: 'a' }, data: { a: 1 } } }],
    ['control', { type: 'control', control: { sender: { type: 'room', sessionid: 'a' }, data: { type: 'mute', audio: 1 } } }],
    [
      'hangup control',
      {
        type: 'control',
        control: { sender: null, recipient: { type: 'session', sessionid: 'v', userid: 'u' }, data: { type: 'hangup', hangup: { reason: 'disinvited' } } },
      },
    ],
    ['transient set', { type: 'transient', transient: { type: 'set', key: 'k', value: 1, oldvalue: 0 } }],
    ['transient remove', { type: 'transient', transient: { type: 'remove', key: 'k' } }],
    ['transient initial', { type: 'transient', transient: { type: 'initial', data: { k: 1 } } }],
    [
      'internal dialout',
      {
        id: 'f'.repeat(32),
        type: 'internal',
        internal: { type: 'dialout', dialout: { roomid: '42', backend: 'https://nc/', request: { number: '+4912345' } } },
      },
    ],
    ['dialout broadcast', { type: 'dialout', dialout: { type: 'status', status: { callid: 'c', status: 'ringing' } } }],
  ])('accepts %s', (_name, message) => {
    const result = ServerMessageSchema.safeParse(message);
    expect(result.error?.issues).toBeUndefined();
  });
});

describe('ServerMessageSchema: omitted vs empty', () => {
  it('requires sessionid, resumeid and userid in hello', () => {
    const hello = { version: '1.0', sessionid: 'a', resumeid: 'b', userid: '' };
    expect(valid({ type: 'hello', hello })).toBe(true);
    for (const key of ['sessionid', 'resumeid', 'userid'] as const) {
      const copy: Record<string, unknown> = { ...hello };
      delete copy[key];
      expect(valid({ type: 'hello', hello: copy })).toBe(false);
    }
  });

  it('rejects a bye object without reason and an empty id', () => {
    expect(valid({ type: 'bye', bye: {} })).toBe(false);
    expect(valid({ type: 'bye', bye: { reason: '' } })).toBe(false);
    expect(valid({ id: '', type: 'bye' })).toBe(false);
  });

  it('rejects unsorted or empty feature lists', () => {
    expect(valid({ type: 'welcome', welcome: { version: '1', features: ['b', 'a'] } })).toBe(false);
    expect(valid({ type: 'welcome', welcome: { version: '1', features: ['a', 'a'] } })).toBe(false);
    expect(valid({ type: 'welcome', welcome: { version: '1', features: [] } })).toBe(false);
    expect(valid({ type: 'welcome', welcome: { version: '1' } })).toBe(true);
  });

  it('requires userid in join entries and a reason in disinvite', () => {
    expect(valid({ type: 'event', event: { target: 'room', type: 'join', join: [{ sessionid: 'a' }] } })).toBe(false);
    expect(valid({ type: 'event', event: { target: 'roomlist', type: 'disinvite', disinvite: { roomid: 'r' } } })).toBe(false);
  });

  it('rejects unknown types and event shapes', () => {
    expect(valid({ type: 'nope' })).toBe(false);
    expect(valid({ type: 'event', event: { target: 'room', type: 'explode' } })).toBe(false);
    expect(valid({ type: 'message', message: { sender: { type: 'session' } } })).toBe(false);
  });
});

describe('parseServerMessage', () => {
  it('returns the message or a readable reason', () => {
    expect(parseServerMessage('{"type":"bye","id":"x"}')).toEqual({ ok: true, value: { type: 'bye', id: 'x' } });
    const bad = parseServerMessage('{"type":"hello","hello":{"version":"1.0"}}');
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.reason).toContain('hello.sessionid');
    expect(parseServerMessage('{').ok).toBe(false);
  });
});
