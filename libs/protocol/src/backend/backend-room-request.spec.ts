import { dialoutErrorResponse, dialoutSuccessResponse, parseBackendRoomRequest, BackendRoomDialoutResponseSchema } from './backend-room-request';
import { signalingError } from '../errors';

function ok(body: unknown): unknown {
  const result = parseBackendRoomRequest(body);
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.reason ?? result.error.message}`);
  return result.value;
}

describe('parseBackendRoomRequest (2.3)', () => {
  it.each([
    [{ type: 'invite', invite: { userids: ['a'], alluserids: ['a', 'b'], properties: { name: 'r' } } }],
    [{ type: 'disinvite', disinvite: { userids: ['a'], sessionids: ['s', '0'], alluserids: ['b'], properties: { name: 'r' } } }],
    [{ type: 'update', update: { userids: ['a'], properties: { name: 'r' } } }],
    [{ type: 'delete', delete: { userids: ['a'] } }],
    [{ type: 'participants', participants: { changed: [{ sessionId: 's', inCall: 3, permissions: ['publish-audio'] }], users: [{ sessionId: 's', lastPing: 1 }] } }],
    [{ type: 'incall', incall: { incall: 7, changed: [{ sessionId: 's', inCall: 7 }], users: [] } }],
    [{ type: 'incall', incall: { incall: true, all: true } }],
    [{ type: 'incall', incall: { incall: 0, all: true } }],
    [{ type: 'message', message: { data: { type: 'chat', chat: { refresh: true } } } }],
    [{ type: 'message', message: {} }],
    [{ type: 'switchto', switchto: { roomid: 'r2', sessions: ['s1', 's2'] } }],
    [{ type: 'switchto', switchto: { roomid: 'r2', sessions: { s1: { foo: 'bar' }, s2: null } } }],
    [{ type: 'dialout', dialout: { number: '+491234567', options: { actorId: 'a' } } }],
    [{ type: 'transient', transient: { action: 'set', key: 'callstatus_1', value: { status: 'ringing' }, ttl: 5000000000 } }],
  ])('parses %j', (body) => {
    expect(ok(body)).toEqual(body);
  });

  it('keeps opaque values by reference', () => {
    const properties = { name: 'room', nested: { x: [1] } };
    const users = [{ sessionId: 's', extra: { y: 1 } }];
    const invite = ok({ type: 'invite', invite: { userids: [], properties } }) as { invite: { properties: unknown } };
    expect(invite.invite.properties).toBe(properties);
    const participants = ok({ type: 'participants', participants: { users } }) as { participants: { users: unknown[] } };
    expect(participants.participants.users[0]).toBe(users[0]);
  });

  it('reports unsupported types with the upstream 400 text', () => {
    const result = parseBackendRoomRequest({ type: 'explode', explode: {} });
    expect(!result.ok && result.error.message).toBe('Unsupported request type: explode');
    expect(!result.ok && result.error.code).toBe('unsupported_request_type');
    expect(parseBackendRoomRequest({}).ok).toBe(false);
    expect(parseBackendRoomRequest([]).ok).toBe(false);
  });

  it.each([
    [{ type: 'invite' }, 'invite'],
    [{ type: 'invite', invite: { userids: 'a' } }, 'invite.userids'],
    [{ type: 'incall', incall: { incall: 'yes' } }, 'incall.incall'],
    [{ type: 'participants', participants: { users: ['x'] } }, 'participants.users.0'],
    [{ type: 'switchto', switchto: { roomid: 'r', sessions: 'x' } }, 'switchto.sessions'],
    [{ type: 'transient', transient: { action: 'nope', key: 'k' } }, 'transient.action'],
  ])('rejects %j with invalid_format', (body, path) => {
    const result = parseBackendRoomRequest(body);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe('invalid_format');
      expect(result.error.reason).toContain(path);
    }
  });

  it('validates dialout numbers (2.3.10)', () => {
    const missing = parseBackendRoomRequest({ type: 'dialout', dialout: {} });
    expect(!missing.ok && missing.error.toPayload()).toEqual({ code: 'number_missing', message: 'No number provided' });
    for (const number of ['0049123', '+1', '+12a', ' +123']) {
      const invalid = parseBackendRoomRequest({ type: 'dialout', dialout: { number } });
      expect(!invalid.ok && invalid.error.toPayload()).toEqual({ code: 'invalid_number', message: 'Expected E.164 number.' });
    }
  });

  it('builds dialout responses', () => {
    expect(dialoutSuccessResponse('call-1')).toEqual({ type: 'dialout', dialout: { callid: 'call-1' } });
    const err = dialoutErrorResponse(signalingError('no_client_available'));
    expect(err).toEqual({
      type: 'dialout',
      dialout: { error: { code: 'no_client_available', message: 'No available client found to trigger dialout.' } },
    });
    expect(BackendRoomDialoutResponseSchema.safeParse(err).success).toBe(true);
  });
});
