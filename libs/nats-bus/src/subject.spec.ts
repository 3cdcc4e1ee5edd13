import { backendRoomSubject, roomSubject, sessionSubject, userSubject } from './subject';

describe('subjects', () => {
  it('encodes room and user ids with the backend as upstream does', () => {
    expect(roomSubject('abc', 'backend-1')).toBe(`room.${Buffer.from('abc|backend-1').toString('base64')}`);
    expect(roomSubject('abc', 'compat')).toBe('room.YWJj');
    expect(userSubject('a b', 'nc')).toBe(`user.${Buffer.from('a b|nc').toString('base64')}`);
    expect(backendRoomSubject('r', 'nc')).toBe(`backend.room.${Buffer.from('r|nc').toString('base64')}`);
    expect(sessionSubject('xyz')).toBe('session.xyz');
  });
});
