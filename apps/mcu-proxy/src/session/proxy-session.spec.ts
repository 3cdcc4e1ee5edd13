import { MAX_PENDING_BYTES, ProxySession, type SessionSink } from './proxy-session';

describe('ProxySession', () => {
  it('queues while disconnected, bounded in bytes (oldest dropped), and delivers in order on attach', () => {
    const session = new ProxySession('s');
    const big = 'x'.repeat(100 * 1024);
    for (let i = 0; i < 20; i++) session.send({ i, big });
    const received: string[] = [];
    const sink: SessionSink = { sendText: (t) => received.push(t) };
    session.attach(sink);
    const total = received.reduce((n, t) => n + t.length, 0);
    expect(total).toBeLessThanOrEqual(MAX_PENDING_BYTES);
    expect(session.dropped).toBe(20 - received.length);
    const indexes = received.map((t) => (JSON.parse(t) as { i: number }).i);
    expect(indexes).toEqual(indexes.slice().sort((a, b) => a - b));
    expect(indexes.at(-1)).toBe(19);
    session.send({ live: true });
    expect(received.at(-1)).toBe('{"live":true}');
  });

  it('expires only after the expiry since its last use', () => {
    const session = new ProxySession('s');
    session.markUsed(1_000);
    expect(session.expired(60_999, 60_000)).toBe(false);
    expect(session.expired(61_000, 60_000)).toBe(true);
  });
});
