import { TransientData, transientChangeMessage, transientInitialMessage, ttlFromNanoseconds } from './transient-data';

type Change = [key: string, value: unknown, oldValue: unknown];

function store(): { data: TransientData; changes: Change[] } {
  const changes: Change[] = [];
  const data = new TransientData({ onChange: (key, value, oldValue) => changes.push([key, value, oldValue]) });
  return { data, changes };
}

describe('TransientData', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('sets, replaces and removes keys, reporting the old value', () => {
    const { data, changes } = store();
    expect(data.set('a', { x: 1 })).toBe(true);
    expect(data.set('a', [2])).toBe(true);
    expect(data.get('a')).toEqual([2]);
    expect(data.remove('a')).toBe(true);
    expect(data.remove('a')).toBe(false);
    expect(changes).toEqual([
      ['a', { x: 1 }, undefined],
      ['a', [2], { x: 1 }],
      ['a', undefined, [2]],
    ]);
    expect(data.size).toBe(0);
  });

  it('treats an absent value as remove', () => {
    const { data, changes } = store();
    data.set('a', 'v');
    expect(data.set('a', undefined)).toBe(true);
    expect(data.set('missing', undefined)).toBe(false);
    expect(changes).toEqual([
      ['a', 'v', undefined],
      ['a', undefined, 'v'],
    ]);
  });

  it('stays silent when the value is equal as JSON', () => {
    const { data, changes } = store();
    data.set('a', { x: [1, 'two'], y: null });
    expect(data.set('a', { x: [1, 'two'], y: null })).toBe(false);
    // Key order is part of the JSON text (upstream compares raw bytes).
    expect(data.set('a', { y: null, x: [1, 'two'] })).toBe(true);
    expect(changes).toHaveLength(2);
  });

  it('snapshots all values with sorted keys', () => {
    const { data } = store();
    data.set('b', 2);
    data.set('a', { one: 1 });
    const snapshot = data.snapshot();
    expect(Object.keys(snapshot)).toEqual(['a', 'b']);
    expect(snapshot).toEqual({ a: { one: 1 }, b: 2 });
    snapshot['c'] = 3;
    expect(data.size).toBe(2);
  });

  it('lists entries with their expiry (for other nodes), following TTL restarts and clears', () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const { data } = store();
    data.set('a', { x: 1 });
    data.set('b', 'v', 100);
    expect(data.entries()).toEqual({ a: { value: { x: 1 } }, b: { value: 'v', expires: 1_000_100 } });
    jest.advanceTimersByTime(50);
    data.set('b', 'v', 100);
    expect(data.entries()['b']).toEqual({ value: 'v', expires: 1_000_150 });
    data.set('b', 'v', 0);
    expect(data.entries()['b']).toEqual({ value: 'v' });
  });

  it('takes initial data from other nodes without notifying: own keys win, expired ones are dropped, TTLs run', () => {
    jest.useFakeTimers({ now: 2_000_000 });
    const { data, changes } = store();
    data.set('own', 'mine');
    const added = data.setInitial({
      own: { value: 'theirs' },
      plain: { value: [1] },
      soon: { value: 's', expires: 2_000_100 },
      gone: { value: 'g', expires: 1_999_999 },
    });
    expect(added).toEqual({ plain: [1], soon: 's' });
    expect(data.get('own')).toBe('mine');
    expect(changes).toEqual([['own', 'mine', undefined]]);
    jest.advanceTimersByTime(100);
    expect(data.get('soon')).toBeUndefined();
    expect(changes.at(-1)).toEqual(['soon', undefined, 's']);
  });

  it('removes a key when its TTL runs out', () => {
    jest.useFakeTimers();
    const { data, changes } = store();
    data.set('a', 'v', 100);
    jest.advanceTimersByTime(99);
    expect(data.get('a')).toBe('v');
    jest.advanceTimersByTime(1);
    expect(data.get('a')).toBeUndefined();
    expect(changes.at(-1)).toEqual(['a', undefined, 'v']);
  });

  it('restarts the TTL when the same value is set again, and clears it for ttl <= 0', () => {
    jest.useFakeTimers();
    const { data, changes } = store();
    data.set('a', 'v', 100);
    jest.advanceTimersByTime(80);
    data.set('a', 'v', 100);
    jest.advanceTimersByTime(80);
    expect(data.get('a')).toBe('v');
    data.set('a', 'v', 0);
    jest.advanceTimersByTime(1_000);
    expect(data.get('a')).toBe('v');
    data.set('a', 'v', 50);
    data.set('a', 'v', -1);
    jest.advanceTimersByTime(1_000);
    expect(data.get('a')).toBe('v');
    expect(changes).toHaveLength(1);
  });

  it('does not expire a value that replaced the one the TTL was set for', () => {
    jest.useFakeTimers();
    const { data, changes } = store();
    data.set('a', 'old', 100);
    jest.advanceTimersByTime(50);
    data.set('a', 'new');
    jest.advanceTimersByTime(1_000);
    expect(data.get('a')).toBe('new');
    data.set('a', 'newer', 100);
    jest.advanceTimersByTime(100);
    expect(data.get('a')).toBeUndefined();
    expect(changes.map((c) => c[1])).toEqual(['old', 'new', 'newer', undefined]);
  });

  it('handles TTLs beyond the setTimeout limit', () => {
    jest.useFakeTimers();
    const { data } = store();
    const thirtyDays = 30 * 24 * 3600 * 1000;
    data.set('a', 'v', thirtyDays);
    jest.advanceTimersByTime(thirtyDays - 1);
    expect(data.get('a')).toBe('v');
    jest.advanceTimersByTime(1);
    expect(data.get('a')).toBeUndefined();
  });

  it('clears everything without notifying and cancels the timers', () => {
    jest.useFakeTimers();
    const { data, changes } = store();
    data.set('a', 1, 100);
    data.set('b', 2);
    changes.length = 0;
    data.clear();
    expect(data.size).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
    expect(changes).toEqual([]);
  });
});

describe('transient messages', () => {
  it('builds set/remove notifications with oldvalue only when there was one', () => {
    expect(transientChangeMessage('k', 1, undefined)).toEqual({ type: 'transient', transient: { type: 'set', key: 'k', value: 1 } });
    expect(JSON.stringify(transientChangeMessage('k', 2, 1))).toBe('{"type":"transient","transient":{"type":"set","key":"k","oldvalue":1,"value":2}}');
    expect(transientChangeMessage('k', undefined, 2)).toEqual({ type: 'transient', transient: { type: 'remove', key: 'k', oldvalue: 2 } });
    expect(transientInitialMessage({ a: 1 })).toEqual({ type: 'transient', transient: { type: 'initial', data: { a: 1 } } });
  });

  it('converts nanoseconds to milliseconds', () => {
    expect(ttlFromNanoseconds(undefined)).toBe(0);
    expect(ttlFromNanoseconds(5_000_000_000)).toBe(5_000);
    expect(ttlFromNanoseconds(-1)).toBeLessThan(0);
  });
});

describe('transient data byte bound', () => {
  it('refuses a value that would pass the bound, counts replacements and removals', () => {
    const changes: string[] = [];
    const data = new TransientData({ onChange: (key) => changes.push(key), maxBytes: 100 });
    expect(data.trySet('a', 'x'.repeat(40))).toBe('changed'); // 1 + 42
    expect(data.trySet('b', 'y'.repeat(40))).toBe('changed'); // 86 in all
    expect(data.bytes).toBe(86);
    expect(data.trySet('c', 'z'.repeat(20))).toBe('full');
    expect(data.get('c')).toBeUndefined();
    expect(data.set('c', 'z'.repeat(20))).toBe(false);
    // Replacing a value counts the difference only.
    expect(data.trySet('a', 'x'.repeat(50))).toBe('changed');
    expect(data.bytes).toBe(96);
    expect(data.trySet('a', 'x'.repeat(50))).toBe('unchanged');
    data.remove('b');
    expect(data.bytes).toBe(53);
    expect(data.trySet('c', 'z'.repeat(20))).toBe('changed');
    expect(changes).toEqual(['a', 'b', 'a', 'b', 'c']);
    data.clear();
    expect(data.bytes).toBe(0);
  });
});
