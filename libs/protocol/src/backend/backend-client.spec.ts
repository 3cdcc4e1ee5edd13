import {
  BackendClientRequestSchema,
  newBackendClientAuthRequest,
  newBackendClientPingRequest,
  newBackendClientRoomRequest,
  newBackendClientSessionRequest,
} from './backend-client-request';
import { parseBackendClientResponse } from './backend-client-response';

describe('backend client requests (3.3)', () => {
  it('builds the documented bodies', () => {
    const params = { userid: 'u', ticket: 't' };
    const auth = newBackendClientAuthRequest(params);
    expect(auth).toEqual({ type: 'auth', auth: { version: '1.0', params } });
    expect(auth.auth.params).toBe(params);
    expect(JSON.stringify(newBackendClientRoomRequest('r', '', 'nc'))).toBe(
      '{"type":"room","room":{"version":"1.0","roomid":"r","userid":"","sessionid":"nc"}}',
    );
    expect(newBackendClientPingRequest('', [{ sessionid: 's' }, { userid: 'u', sessionid: 't' }])).toEqual({
      type: 'ping',
      ping: { version: '1.0', roomid: '', entries: [{ sessionid: 's' }, { userid: 'u', sessionid: 't' }] },
    });
    expect(newBackendClientSessionRequest('r', 'add', 'v', { userid: 'u', user: { type: 'phone' } })).toEqual({
      type: 'session',
      session: { version: '1.0', roomid: 'r', action: 'add', sessionid: 'v', userid: 'u', user: { type: 'phone' } },
    });
    expect(newBackendClientSessionRequest('r', 'remove', 'v')).toEqual({
      type: 'session',
      session: { version: '1.0', roomid: 'r', action: 'remove', sessionid: 'v' },
    });
  });

  it('validates request bodies (for the fake Nextcloud)', () => {
    const leave = { type: 'room', room: { version: '1.0', roomid: 'r', action: 'leave', userid: 'u', sessionid: 's', actorid: 'a', actortype: 'phones', incall: 9 } };
    expect(BackendClientRequestSchema.safeParse(leave).success).toBe(true);
    expect(BackendClientRequestSchema.safeParse({ type: 'room', room: { version: '1.0', roomid: 'r', sessionid: 's' } }).success).toBe(false);
    expect(BackendClientRequestSchema.safeParse({ type: 'ping', ping: { version: '2.0', roomid: '', entries: [] } }).success).toBe(false);
  });
});

describe('parseBackendClientResponse (3.3)', () => {
  it.each([
    [{ type: 'auth', auth: { version: '1.0', userid: 'admin', user: { displayname: 'Admin' } } }],
    [{ type: 'auth', auth: { version: '1.0', userid: '' } }],
    [{ type: 'room', room: { version: '1.0', roomid: 'r', properties: { name: 'x' }, session: { userid: 'u' }, permissions: ['publish-audio'] } }],
    [{ type: 'room', room: { version: '1.0', roomid: 'r', properties: {} } }],
    [{ type: 'ping', ping: { version: '1.0', roomid: 'r' } }],
    [{ type: 'session', session: { version: '1.0', roomid: 'r' } }],
    [{ type: 'error', error: { code: 'no_such_room', message: 'The room does not exist.' } }],
    [{ type: 'error', error: { code: 'x', message: 'y', details: { a: 1 } } }],
  ])('parses %j', (body) => {
    expect(parseBackendClientResponse(body)).toEqual({ ok: true, value: body });
  });

  it('keeps user data and properties by reference', () => {
    const user = { displayname: 'A' };
    const result = parseBackendClientResponse({ type: 'auth', auth: { version: '1.0', userid: 'a', user } });
    expect(result.ok && result.value.type === 'auth' && result.value.auth.user).toBe(user);
  });

  it.each([
    [{ type: 'other', other: {} }, 'type'],
    [{ type: 'auth' }, 'auth'],
    [{ type: 'room', room: { roomid: 5 } }, 'room.roomid'],
    [{ type: 'room', room: { permissions: 'all' } }, 'room.permissions'],
    [[], 'response'],
  ])('rejects %j', (body, path) => {
    const result = parseBackendClientResponse(body);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe('invalid_format');
      expect(result.error.reason).toContain(path);
    }
  });
});
