import type { BenchClient } from '../bench-client';
import { pickPeer } from './pick-peer';

const client = (index: number, closed = false): BenchClient => ({ index, closed }) as unknown as BenchClient;

describe('pickPeer', () => {
  it('never picks the sender or a closed client', () => {
    const live = [client(0), client(1), client(2, true)];
    for (let i = 0; i < 50; i++) expect(pickPeer(live, live[0] as BenchClient)?.index).toBe(1);
  });

  it('falls back to a scan when the dice keep hitting the sender', () => {
    const live = [client(0), client(1)];
    expect(pickPeer(live, live[0] as BenchClient, () => 0)?.index).toBe(1);
  });

  it('has no peer alone', () => {
    const live = [client(0)];
    expect(pickPeer(live, live[0] as BenchClient)).toBeUndefined();
  });
});
