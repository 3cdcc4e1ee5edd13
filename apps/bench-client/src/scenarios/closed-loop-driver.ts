// Closed loop: every client keeps `-window` messages in flight and sends the next one as soon as
// the previous one has been delivered (to its one recipient, or to every other member of its
// room). Throughput is whatever the server sustains; nothing queues up without bound.
import { BenchClient } from '../bench-client';
import type { BenchRun, Driver } from '../bench-run';
import { pickPeer } from './pick-peer';

/** A window without progress for this long is written off (its deliveries count as lost). */
const STALL_MS = 2_000;

export class ClosedLoopDriver implements Driver {
  readonly #run: BenchRun;
  readonly #target: 'session' | 'room';
  #running = false;

  constructor(run: BenchRun, target: 'session' | 'room') {
    this.#run = run;
    this.#target = target;
  }

  start(): void {
    this.#running = true;
    const now = BenchClient.now();
    for (const c of this.#run.live) {
      c.outstanding = 0;
      c.lastProgress = now;
      for (let i = 0; i < this.#run.opts.window; i++) this.#send(c);
    }
  }

  delivered(sender: BenchClient): void {
    if (!this.#running) return;
    const fanout = this.#target === 'room' ? this.#run.fanout(sender) : 1;
    if (sender.outstanding <= (this.#run.opts.window - 1) * fanout) this.#send(sender);
  }

  tick(now: number): void {
    for (const c of this.#run.live) {
      if (c.outstanding > 0 && now - c.lastProgress > STALL_MS) {
        c.outstanding = 0;
        c.lastProgress = now;
        for (let i = 0; i < this.#run.opts.window; i++) this.#send(c);
      }
    }
  }

  stop(): void {
    this.#running = false;
  }

  #send(c: BenchClient): void {
    if (c.closed) return;
    const run = this.#run;
    const now = BenchClient.now();
    const iso = new Date().toISOString();
    if (this.#target === 'room') {
      const fanout = run.fanout(c);
      if (fanout === 0) return;
      c.send(BenchClient.roomMessage(c.index, now, iso));
      c.outstanding += fanout;
      run.counters.expected += fanout;
    } else {
      const peer = pickPeer(run.live, c);
      if (peer === undefined) return;
      c.send(BenchClient.sessionMessage(c.index, peer.sessionIdJson, now, iso));
      c.outstanding++;
      run.counters.expected++;
    }
    run.counters.sent++;
  }
}
