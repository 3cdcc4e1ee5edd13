import { ShutdownRegistry } from './shutdown';
import { silentLogger } from './logger';
import { deepFreeze } from './deep-freeze';

describe('ShutdownRegistry', () => {
  it('closes in reverse order, survives a failing closer and runs once', async () => {
    const order: string[] = [];
    const reg = new ShutdownRegistry(silentLogger());
    reg.add('first', () => void order.push('first'));
    reg.add('broken', () => {
      throw new Error('boom');
    });
    reg.add('last', async () => void order.push('last'));
    await Promise.all([reg.run(1_000), reg.run(1_000)]);
    expect(order).toEqual(['last', 'first']);
  });

  it('does not wait for a hanging closer beyond the deadline', async () => {
    const reg = new ShutdownRegistry(silentLogger());
    const order: string[] = [];
    reg.add('after', () => void order.push('after'));
    reg.add('hangs', () => new Promise<void>(() => undefined));
    const started = Date.now();
    await reg.run(100);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(order).toEqual([]); // the deadline passed while the hanging closer ran
  });
});

describe('deepFreeze', () => {
  it('freezes nested objects and arrays', () => {
    const value = deepFreeze({ a: { b: [1, { c: 2 }] } });
    expect(Object.isFrozen(value.a.b)).toBe(true);
    expect(Object.isFrozen(value.a.b[1])).toBe(true);
  });
});
