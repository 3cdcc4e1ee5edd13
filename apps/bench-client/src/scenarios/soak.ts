// `-scenario soak`: everything a busy server sees, at once, for a long time — and whether its
// memory keeps growing. Half of `-maxClients` are steady members of rooms of `-roomSize` that send
// session and room messages at `-rate` (every delivery among them is counted: nothing may be
// lost); the other half are churn workers that connect, join, chat and then end in one of four
// ways: leave + bye, drop and resume, drop and never come back (detached until it expires), or
// stop reading for a while (stalled). Memory is sampled from the server's `/metrics` every
// `-interval`; the run fails when its level keeps rising after the warm-up or a steady member
// lost a message or its connection.
import { randomBytes } from 'node:crypto';
import { BenchClient, type ClientSink } from '../bench-client';
import { runLimited, sleep, type RunOutput } from '../bench-run';
import type { BenchOptions } from '../cli';
import { MemoryProbe, type MemorySample } from '../memory-probe';
import { LatencyHistogram, round } from '../stats';
import { judgeGrowth, type GrowthVerdict } from './growth-check';
import { pickPeer } from './pick-peer';

/** Aggregate message rate of the steady members when `-rate` is not given. */
export const SOAK_DEFAULT_RATE = 200;
/** Send tick of the steady members. */
const TICK_MS = 50;
/** A steady member whose socket holds more than this unsent skips its turn. */
const MAX_BUFFERED = 1 << 20;
/** Bound for waiting on deliveries still in flight at the end. */
const DRAIN_MS = 3_000;
/** Warm-up excluded from the growth verdict: a tenth of the run, at least a minute. */
const MIN_WARMUP_MS = 60_000;
/** The figures recorded in docs/benchmarks.md: start, 5 minutes in, end. */
const FIVE_MINUTES_MS = 5 * 60_000;

type Ending = 'bye' | 'resumed' | 'detached' | 'stalled';
/** Cumulative weights of the four endings of a churn cycle. */
const ENDINGS: [Ending, number][] = [
  ['bye', 0.5],
  ['resumed', 0.75],
  ['detached', 0.9],
  ['stalled', 1],
];

export interface SoakReport {
  steady: number;
  /** Steady members that could not connect, say hello or join. */
  steadyFailed: number;
  churnWorkers: number;
  rooms: number;
  rate: number;
  durationMs: number;
  cycles: number;
  endings: Record<Ending, number>;
  /** Resumes the server refused (the session had expired or was unknown). */
  resumeFailed: number;
  cycleErrors: Record<string, number>;
  /** Messages among steady members: sent, deliveries expected and received. */
  sent: number;
  expected: number;
  recv: number;
  lost: number;
  /** Deliveries to churning clients (not counted for loss: they come and go). */
  recvChurn: number;
  /** Steady members whose connection ended during the run. */
  steadyClosed: number;
  latencyMs: { p50: number; p99: number; max: number };
  memory: {
    start?: MemorySample;
    at5min?: MemorySample;
    end?: MemorySample;
    maxRssMiB?: number;
    samples: [number, number, number | null][];
  };
  verdict: GrowthVerdict;
  failed: boolean;
  failures: string[];
}

export class SoakRun implements ClientSink {
  readonly #opts: BenchOptions;
  readonly #authUrl: string;
  readonly #out: RunOutput;
  readonly #tag = randomBytes(4).toString('hex');
  readonly #probe: MemoryProbe;
  readonly #latency = new LatencyHistogram();
  readonly #steady: BenchClient[] = [];
  readonly #roomOfSteady = new Map<BenchClient, number>();
  readonly #steadyPerRoom: number[] = [];
  readonly #samples: MemorySample[] = [];
  readonly #endings: Record<Ending, number> = { bye: 0, resumed: 0, detached: 0, stalled: 0 };
  readonly #cycleErrors = new Map<string, number>();
  readonly #churnClients = new Set<BenchClient>();
  #steadyCount = 0;
  #rooms = 0;
  #nextIndex = 0;
  #running = false;
  #started = 0;
  #cycles = 0;
  #resumeFailed = 0;
  #sent = 0;
  #expected = 0;
  #recv = 0;
  #recvChurn = 0;
  #steadyClosed = 0;
  #turn = 0;

  constructor(opts: BenchOptions, authUrl: string, out: RunOutput) {
    this.#opts = opts;
    this.#authUrl = authUrl;
    this.#out = out;
    this.#probe = new MemoryProbe(opts.addrs[0] as string, opts.serverPid);
  }

  // ---- ClientSink

  delivered(to: BenchClient, from: number, sentAt: number): void {
    if (to.index < this.#steadyCount && from < this.#steadyCount) {
      this.#recv++;
      this.#latency.record((BenchClient.now() - sentAt) * 1_000);
    } else {
      this.#recvChurn++;
    }
  }

  members(): void {
    // room fill is awaited through the join answers only
  }

  error(_client: BenchClient, code: string): void {
    this.#countError(code);
  }

  closed(client: BenchClient, reason: string): void {
    if (this.#running && client.index < this.#steadyCount) {
      this.#steadyClosed++;
      this.#out.line(`steady member ${client.index} lost its connection: ${reason}`);
    }
  }

  // ---- the run

  async run(): Promise<SoakReport> {
    const { maxClients, roomSize, durationMs, intervalMs } = this.#opts;
    this.#steadyCount = Math.max(2, Math.ceil(maxClients / 2));
    const churnWorkers = Math.max(1, maxClients - this.#steadyCount);
    this.#rooms = Math.max(1, Math.ceil(this.#steadyCount / roomSize));
    this.#nextIndex = this.#steadyCount;
    this.#started = BenchClient.now();
    await this.#sample();
    await this.#startSteady();
    const rate = this.#opts.rateExplicit ? this.#opts.rate : SOAK_DEFAULT_RATE;
    this.#out.line(
      `Soak: ${this.#steady.length} steady members in ${this.#rooms} rooms at ${rate} msg/s, ${churnWorkers} churn workers, for ${Math.round(durationMs / 1_000)}s`,
    );
    this.#running = true;
    const sender = setInterval(() => this.#sendTick(rate), TICK_MS);
    const sampler = setInterval(() => void this.#sample().then(() => this.#report()), intervalMs);
    const workers = Array.from({ length: churnWorkers }, () => this.#churnLoop());
    await sleep(durationMs);
    this.#running = false;
    clearInterval(sender);
    clearInterval(sampler);
    await Promise.all(workers);
    const drainUntil = BenchClient.now() + DRAIN_MS;
    while (this.#recv < this.#expected && BenchClient.now() < drainUntil) await sleep(20);
    await this.#sample();
    this.#report();
    for (const c of [...this.#steady, ...this.#churnClients]) c.bye();
    await sleep(200);
    for (const c of [...this.#steady, ...this.#churnClients]) if (!c.closed) c.terminate();
    return this.#summary(rate, churnWorkers);
  }

  async #startSteady(): Promise<void> {
    const { timeoutMs, concurrency } = this.#opts;
    const deadline = BenchClient.now() + timeoutMs;
    const left = (): number => Math.max(1, deadline - BenchClient.now());
    this.#steadyPerRoom.length = this.#rooms;
    this.#steadyPerRoom.fill(0);
    await runLimited(this.#steadyCount, concurrency, async (i) => {
      const client = this.#newClient(i);
      try {
        await client.opened(left());
        await client.hello(this.#authUrl, { userid: `soak-${this.#tag}-s${i}`, ticket: 'bench' }, left());
        const room = i % this.#rooms;
        await client.join(this.#roomId(room), `soak-${this.#tag}-rs-${i}`, left());
        this.#roomOfSteady.set(client, room);
        this.#steadyPerRoom[room]!++;
        this.#steady.push(client);
      } catch (err) {
        this.#countError((err as { code?: string }).code ?? 'error');
        client.terminate();
      }
    });
    if (this.#steady.length < 2) throw new Error(`only ${this.#steady.length} steady members connected`);
  }

  #sendTick(rate: number): void {
    const live = this.#steady;
    let n = Math.round((rate * TICK_MS) / 1_000);
    const now = BenchClient.now();
    const iso = new Date().toISOString();
    while (n-- > 0) {
      const from = live[this.#turn++ % live.length] as BenchClient;
      if (from.closed || from.bufferedAmount > MAX_BUFFERED) continue;
      // Alternate: a session message to another steady member, then a room message.
      if (this.#turn % 2 === 0) {
        const to = pickPeer(live, from);
        if (to === undefined) continue;
        from.send(BenchClient.sessionMessage(from.index, to.sessionIdJson, now, iso));
        this.#expected += 1;
      } else {
        from.send(BenchClient.roomMessage(from.index, now, iso));
        this.#expected += (this.#steadyPerRoom[this.#roomOfSteady.get(from) as number] as number) - 1;
      }
      this.#sent++;
    }
  }

  async #churnLoop(): Promise<void> {
    while (this.#running) {
      try {
        await this.#cycle();
      } catch (err) {
        // A request cut short by the connection closing says why (close code, reason): keep that.
        const code = (err as { code?: string }).code;
        this.#countError(code === undefined || code === 'closed' ? (err as Error).message : code);
        await sleep(200);
      }
    }
  }

  /** One churning client from connect to its ending. */
  async #cycle(): Promise<void> {
    const timeout = this.#opts.timeoutMs;
    const index = this.#nextIndex++;
    const client = this.#newClient(index);
    this.#churnClients.add(client);
    try {
      await client.opened(timeout);
      await client.hello(this.#authUrl, { userid: `soak-${this.#tag}-c${index}`, ticket: 'bench' }, timeout);
      await client.join(this.#roomId(randomInt(this.#rooms)), `soak-${this.#tag}-rs-${index}`, timeout);
      const now = BenchClient.now();
      const iso = new Date().toISOString();
      for (let i = randomInt(3); i >= 0; i--) {
        const to = pickPeer(this.#steady, client);
        if (to !== undefined) client.send(BenchClient.sessionMessage(index, to.sessionIdJson, now, iso));
        client.send(BenchClient.roomMessage(index, now, iso));
      }
      await sleep(200 + randomInt(1_300));
      const ending = pickEnding(Math.random());
      switch (ending) {
        case 'bye':
          await client.leave(timeout);
          client.bye();
          break;
        case 'resumed': {
          client.terminate();
          await sleep(100 + randomInt(1_900));
          const again = this.#newClient(index);
          this.#churnClients.add(again);
          try {
            await again.opened(timeout);
            await again.resume(client.resumeId, timeout);
            await sleep(300 + randomInt(700));
            again.bye();
          } catch (err) {
            this.#resumeFailed++;
            again.terminate();
            throw err;
          } finally {
            this.#churnClients.delete(again);
          }
          break;
        }
        case 'detached':
          // Gone without bye: the server keeps the session (and queues its room traffic) until it expires.
          client.terminate();
          break;
        case 'stalled':
          client.stall();
          await sleep(3_000 + randomInt(7_000));
          client.terminate();
          break;
      }
      this.#endings[ending]++;
      this.#cycles++;
    } finally {
      if (!client.closed) client.terminate();
      this.#churnClients.delete(client);
    }
  }

  #newClient(index: number): BenchClient {
    const addrs = this.#opts.addrs;
    return new BenchClient(index, `ws://${addrs[index % addrs.length] as string}/spreed`, this);
  }

  #roomId(room: number): string {
    return `soak-${this.#tag}-room-${room}`;
  }

  async #sample(): Promise<void> {
    const s = await this.#probe.sample(Math.round(BenchClient.now() - this.#started));
    if (s !== undefined) this.#samples.push(s);
  }

  #report(): void {
    const s = this.#samples[this.#samples.length - 1];
    const mem = s === undefined ? 'memory n/a' : `rss=${s.rssMiB.toFixed(1)}MiB heap=${s.heapMiB === undefined ? 'n/a' : `${s.heapMiB.toFixed(1)}MiB`}`;
    const e = this.#endings;
    this.#out.line(
      `Soak: t=${Math.round((BenchClient.now() - this.#started) / 1_000)}s ${mem} cycles=${this.#cycles} ` +
        `(bye ${e.bye}, resumed ${e.resumed}, detached ${e.detached}, stalled ${e.stalled}) ` +
        `sent=${this.#sent} recv=${this.#recv}/${this.#expected} churn-recv=${this.#recvChurn}`,
    );
  }

  #countError(code: string): void {
    this.#cycleErrors.set(code, (this.#cycleErrors.get(code) ?? 0) + 1);
  }

  #summary(rate: number, churnWorkers: number): SoakReport {
    const durationMs = this.#opts.durationMs;
    const verdict = judgeGrowth(this.#samples, { warmupMs: Math.max(MIN_WARMUP_MS, durationMs / 10), maxGrowthMiB: this.#opts.maxGrowthMiB });
    const lost = Math.max(0, this.#expected - this.#recv);
    const failures: string[] = [];
    if (verdict.growing) failures.push(verdict.reason);
    if (lost > 0) failures.push(`${lost} deliveries among steady members lost`);
    if (this.#steadyClosed > 0) failures.push(`${this.#steadyClosed} steady members lost their connection`);
    if (this.#samples.length === 0) failures.push('no memory samples (is /metrics reachable from this client?)');
    const at5 = this.#samples.find((s) => s.atMs >= FIVE_MINUTES_MS);
    return {
      steady: this.#steady.length,
      steadyFailed: this.#steadyCount - this.#steady.length,
      churnWorkers,
      rooms: this.#rooms,
      rate,
      durationMs,
      cycles: this.#cycles,
      endings: { ...this.#endings },
      resumeFailed: this.#resumeFailed,
      cycleErrors: Object.fromEntries(this.#cycleErrors),
      sent: this.#sent,
      expected: this.#expected,
      recv: this.#recv,
      lost,
      recvChurn: this.#recvChurn,
      steadyClosed: this.#steadyClosed,
      latencyMs: {
        p50: round(this.#latency.percentile(50) / 1_000),
        p99: round(this.#latency.percentile(99) / 1_000),
        max: round(this.#latency.max / 1_000),
      },
      memory: {
        start: this.#samples[0],
        ...(at5 !== undefined ? { at5min: at5 } : {}),
        end: this.#samples[this.#samples.length - 1],
        ...(this.#samples.length > 0 ? { maxRssMiB: round(Math.max(...this.#samples.map((s) => s.rssMiB))) } : {}),
        samples: this.#samples.map((s) => [Math.round(s.atMs / 1_000), round(s.rssMiB), s.heapMiB === undefined ? null : round(s.heapMiB)]),
      },
      verdict,
      failed: failures.length > 0,
      failures,
    };
  }
}

function pickEnding(r: number): Ending {
  for (const [ending, upTo] of ENDINGS) if (r < upTo) return ending;
  return 'bye';
}

function randomInt(below: number): number {
  return Math.floor(Math.random() * below);
}
