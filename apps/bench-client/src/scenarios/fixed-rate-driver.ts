// Open loop at a fixed aggregate rate: a 5 ms ticker sends as many messages as the schedule
// (`-rate` per second since the start) asks for, from the clients in turn, to random peers (or
// to the sender's room). A client whose socket is backed up skips its turn (counted), so a
// server that falls behind shows up as latency and skipped sends rather than client memory.
import { BenchClient } from '../bench-client';
import type { BenchRun, Driver } from '../bench-run';
import { pickPeer } from './pick-peer';

const TICK_MS = 5;
/** A socket with more than this unsent is backed up. */
const MAX_BUFFERED = 1 << 20; // 1 MiB
/** Most messages sent in one tick, so a stalled event loop does not burst without bound. */
const MAX_BURST_TICKS = 20;

export class FixedRateDriver implements Driver {
  readonly #run: BenchRun;
  readonly #target: 'session' | 'room';
  readonly #rate: number;
  #timer: NodeJS.Timeout | undefined;
  #started = 0;
  #scheduled = 0;
  #next = 0;

  constructor(run: BenchRun, target: 'session' | 'room', rate: number) {
    this.#run = run;
    this.#target = target;
    this.#rate = rate;
  }

  start(): void {
    this.#started = BenchClient.now();
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
  }

  delivered(): void {
    // open loop: deliveries do not trigger sends
  }

  tick(): void {
    // nothing to recover: every send is independent
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #tick(): void {
    const run = this.#run;
    const live = run.live;
    if (live.length < 2) return;
    const now = BenchClient.now();
    const due = Math.floor(((now - this.#started) * this.#rate) / 1_000);
    const maxBurst = Math.ceil((this.#rate * TICK_MS * MAX_BURST_TICKS) / 1_000);
    let count = due - this.#scheduled;
    if (count > maxBurst) {
      run.counters.skipped += count - maxBurst;
      count = maxBurst;
    }
    this.#scheduled = due;
    const iso = new Date().toISOString();
    while (count-- > 0) {
      const c = live[this.#next++ % live.length] as BenchClient;
      if (c.closed || c.bufferedAmount > MAX_BUFFERED) {
        run.counters.skipped++;
        continue;
      }
      if (this.#target === 'room') {
        const fanout = run.fanout(c);
        c.send(BenchClient.roomMessage(c.index, now, iso));
        c.outstanding += fanout;
        run.counters.expected += fanout;
      } else {
        const peer = pickPeer(live, c);
        if (peer === undefined) continue;
        c.send(BenchClient.sessionMessage(c.index, peer.sessionIdJson, now, iso));
        c.outstanding++;
        run.counters.expected++;
      }
      run.counters.sent++;
    }
  }
}
