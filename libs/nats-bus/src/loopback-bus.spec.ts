import { LoopbackBus } from './loopback-bus';
import { backendRoomSubject, roomSubject, sessionSubject, userSubject } from './subject';

describe('LoopbackBus', () => {
  it('delivers asynchronously, in order, to every subscriber of the subject only', async () => {
    const bus = new LoopbackBus();
    const a: unknown[] = [];
    const b: unknown[] = [];
    bus.subscribe('room.x', (m) => a.push(m));
    bus.subscribe('room.x', (m) => b.push(m));
    bus.subscribe('room.y', () => a.push('wrong'));
    const first = { n: 1 };
    bus.publish('room.x', first);
    bus.publish('room.x', { n: 2 });
    expect(a).toEqual([]); // never re-entrant from publish
    await Promise.resolve();
    expect(a).toEqual([{ n: 1 }, { n: 2 }]);
    expect(b).toEqual([{ n: 1 }, { n: 2 }]);
    expect(a[0]).toBe(first); // no copy in-process
    await bus.close();
  });

  it('stops delivering after unsubscribe and drops subjects without subscribers', async () => {
    const bus = new LoopbackBus();
    const got: unknown[] = [];
    const sub = bus.subscribe('s', (m) => got.push(m));
    expect(bus.subjectCount).toBe(1);
    sub.unsubscribe();
    sub.unsubscribe();
    bus.publish('s', { x: 1 });
    await Promise.resolve();
    expect(got).toEqual([]);
    expect(bus.subjectCount).toBe(0);
  });

  it('keeps delivering to others when a handler throws, and reports the error', async () => {
    const errors: unknown[] = [];
    const bus = new LoopbackBus({ onError: (err) => errors.push(err) });
    const got: unknown[] = [];
    bus.subscribe('s', () => {
      throw new Error('boom');
    });
    bus.subscribe('s', (m) => got.push(m));
    bus.publish('s', { x: 1 });
    await Promise.resolve();
    expect(got).toEqual([{ x: 1 }]);
    expect(errors).toHaveLength(1);
  });

  it('delivers messages published from a handler after the current ones', async () => {
    const bus = new LoopbackBus();
    const order: string[] = [];
    bus.subscribe('a', () => {
      order.push('a');
      bus.publish('b', {});
    });
    bus.subscribe('b', () => order.push('b'));
    bus.publish('a', {});
    bus.publish('a', {});
    await Promise.resolve();
    expect(order).toEqual(['a', 'a', 'b', 'b']);
  });
});

describe('subjects', () => {
  it('encodes room and user ids with the backend as upstream does', () => {
    expect(roomSubject('abc', 'backend-1')).toBe(`room.${Buffer.from('abc|backend-1').toString('base64')}`);
    expect(roomSubject('abc', 'compat')).toBe('room.YWJj');
    expect(userSubject('a b', 'nc')).toBe(`user.${Buffer.from('a b|nc').toString('base64')}`);
    expect(backendRoomSubject('r', 'nc')).toBe(`backend.room.${Buffer.from('r|nc').toString('base64')}`);
    expect(sessionSubject('xyz')).toBe('session.xyz');
  });
});
