import type { BenchClient } from '../bench-client';

/** A random live client other than `self` (upstream: "pick a random other client"). */
export function pickPeer(live: readonly BenchClient[], self: BenchClient, random: () => number = Math.random): BenchClient | undefined {
  if (live.length < 2) return undefined;
  for (let attempt = 0; attempt < 8; attempt++) {
    const peer = live[Math.floor(random() * live.length)] as BenchClient;
    if (peer !== self && !peer.closed) return peer;
  }
  return live.find((p) => p !== self && !p.closed);
}
