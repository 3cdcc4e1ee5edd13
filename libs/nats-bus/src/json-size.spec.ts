import { estimateJsonSize } from './json-size';

describe('estimateJsonSize', () => {
  it('is close to the serialised length for typical messages', () => {
    const m = { type: 'message', sendtime: '2026-01-01T00:00:00.000Z', message: { type: 'message', message: { sender: { type: 'session', sessionid: 'x'.repeat(120) }, data: { to: 'y', sdp: 'z'.repeat(3000), n: [1, 2, 3] } } } };
    const exact = JSON.stringify(m).length;
    const estimate = estimateJsonSize(m);
    expect(estimate).toBeGreaterThan(exact * 0.9);
    expect(estimate).toBeLessThan(exact * 1.2);
  });

  it('ends on a cyclic object once past the limit, and on deep nesting without recursion', () => {
    const cyclic: Record<string, unknown> = { a: 'x' };
    cyclic['self'] = cyclic;
    expect(estimateJsonSize(cyclic, 1000)).toBeGreaterThan(1000);
    let deep: unknown = 'leaf';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(estimateJsonSize(deep)).toBeGreaterThan(100_000);
  });
});
