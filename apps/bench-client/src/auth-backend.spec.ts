import { SAMPLE_USER, answer } from './auth-backend';

describe('auth backend answers', () => {
  it('answers auth with the user from the params, or upstream sample-user', () => {
    expect(answer('auth', { auth: { version: '1.0', params: { userid: 'u1' } } })).toEqual({
      type: 'auth',
      auth: { version: '1.0', userid: 'u1', user: { displayname: 'u1' } },
    });
    expect(answer('auth', { auth: { version: '1.0', params: {} } })).toMatchObject({ auth: { userid: SAMPLE_USER } });
  });

  it('lets every room be joined and acknowledges pings and sessions', () => {
    expect(answer('room', { room: { version: '1.0', roomid: 'r1', sessionid: 's' } })).toEqual({
      type: 'room',
      room: { version: '1.0', roomid: 'r1', properties: { name: 'r1', type: 3 } },
    });
    expect(answer('ping', { ping: {} })).toMatchObject({ type: 'room' });
    expect(answer('session', { session: { roomid: 'r1' } })).toEqual({ type: 'session', session: { version: '1.0', roomid: 'r1' } });
    expect(answer('other', {})).toMatchObject({ type: 'error', error: { code: 'unknown_type' } });
  });
});
