// One benchmark run: the clients, the shared counters, and the phases every scenario is built
// from (connect + hello, join rooms and wait for full member lists, measure, drain, close).
import { randomBytes } from 'node:crypto';
import { BenchClient, type ClientSink } from './bench-client';
import type { BenchOptions } from './cli';
import { Progress, type ProgressOutput } from './progress';
import { sampleServer, type ServerSample } from './server-probe';
import { Counters, LatencyHistogram, formatMs, formatStatsLine, ratePerSec, round, type CounterSnapshot } from './stats';

/** Where a run writes: `line` for stdout lines (Stats, notes), `progress` for the progress display. */
export interface RunOutput {
  line(text: string): void;
  progress?: ProgressOutput;
}

/** A message load generator used during the measurement phase. */
export interface Driver {
  start(): void;
  /** A delivery of `sender`'s message was received (closed-loop drivers send the next one). */
  delivered(sender: BenchClient): void;
  /** Called once a second: resends for senders whose window stalled (lost deliveries). */
  tick(now: number): void;
  stop(): void;
}

/** Messages taking longer than this are logged (upstream: "Message took …" above 1 s). */
const SLOW_MESSAGE_US = 1_000_000;
/** Bound for waiting on in-flight deliveries after the measurement. */
const DRAIN_MS = 3_000;
/** Bound for close handshakes at the end. */
const CLOSE_MS = 3_000;

export interface ConnectResult {
  connected: number;
  failed: number;
  ms: number;
  hellosPerSec: number;
}

export interface JoinResult {
  rooms: number;
  joined: number;
  failed: number;
  joinMs: number;
  joinsPerSec: number;
  /** Time from the first join until every member knew every member of its room; null if not reached. */
  fillMs: number | null;
}

export interface MeasureResult {
  ms: number;
  sent: number;
  recv: number;
  /** Deliveries received inside the measurement window (the rest arrived while draining). */
  recvInWindow: number;
  expected: number;
  lost: number;
  skipped: number;
  cpuSec?: number;
}

export class BenchRun implements ClientSink {
  readonly opts: BenchOptions;
  readonly counters = new Counters();
  /** Latency over the measurement phase. */
  readonly latency = new LatencyHistogram();
  /** Latency over the current Stats interval. */
  readonly #intervalLatency = new LatencyHistogram();
  readonly #out: RunOutput;
  readonly #authUrl: string;
  /** Every client ever created, by index (the sender id in benchmark messages). */
  readonly #byIndex: BenchClient[] = [];
  /** Clients with a session (after connect). */
  live: BenchClient[] = [];
  /** Random tag of this run: user ids and room session ids stay unique across runs. */
  readonly tag = randomBytes(4).toString('hex');
  readonly closeReasons = new Map<string, number>();
  #driver: Driver | undefined;
  #measuring = false;
  #slowLogged = 0;
  #slowCount = 0;
  /** Room of each client index and the number of sessions expected in each room. */
  readonly #roomOf = new Map<number, number>();
  #roomSizes: number[] = [];
  readonly #full = new Set<number>();
  #onFull: (() => void) | undefined;
  serverBase: ServerSample | undefined;

  constructor(opts: BenchOptions, authUrl: string, out: RunOutput) {
    this.opts = opts;
    this.#authUrl = authUrl;
    this.#out = out;
    this.serverBase = sampleServer(opts.serverPid);
  }

  line(text: string): void {
    this.#out.line(text);
  }

  #progress(label: string, total: number): Progress {
    return new Progress(label, total, this.opts.quiet ? undefined : this.#out.progress);
  }

  // ---- ClientSink

  delivered(_to: BenchClient, from: number, sentAt: number): void {
    const now = BenchClient.now();
    this.counters.recv++;
    const us = (now - sentAt) * 1_000;
    if (this.#measuring) {
      this.latency.record(us);
      this.#intervalLatency.record(us);
    }
    if (us > SLOW_MESSAGE_US) {
      this.#slowCount++;
      if (now - this.#slowLogged > 1_000) {
        this.#slowLogged = now;
        this.line(`Message took ${formatMs(us)} (${this.#slowCount} messages over 1s so far)`);
      }
    }
    const sender = this.#byIndex[from];
    if (sender === undefined) return;
    sender.outstanding--;
    sender.lastProgress = now;
    this.#driver?.delivered(sender);
  }

  members(client: BenchClient): void {
    const room = this.#roomOf.get(client.index);
    if (room === undefined || this.#full.has(client.index)) return;
    if (client.roomMembers >= (this.#roomSizes[room] ?? Infinity)) {
      this.#full.add(client.index);
      if (this.#full.size >= this.#roomOf.size) this.#onFull?.();
    }
  }

  error(_client: BenchClient, code: string): void {
    this.counters.countError(code);
  }

  closed(_client: BenchClient, reason: string): void {
    const key = reason.trim();
    this.closeReasons.set(key, (this.closeReasons.get(key) ?? 0) + 1);
  }

  // ---- phases

  /** Opens `maxClients` connections (round-robin over `-addr`) and says hello on each. */
  async connect(): Promise<ConnectResult> {
    const { maxClients, addrs, timeoutMs } = this.opts;
    const progress = this.#progress('connecting', maxClients);
    const started = BenchClient.now();
    const deadline = started + timeoutMs;
    let done = 0;
    let failed = 0;
    let lastOk = started;
    const ok: BenchClient[] = [];
    const errors = new Map<string, number>();
    const one = async (i: number): Promise<void> => {
      const addr = addrs[i % addrs.length] as string;
      const client = new BenchClient(i, `ws://${addr}/spreed`, this);
      this.#byIndex[i] = client;
      try {
        const left = Math.max(1, deadline - BenchClient.now());
        await client.opened(left);
        await client.hello(this.#authUrl, { userid: `bench-${this.tag}-${i}`, ticket: 'bench' }, Math.max(1, deadline - BenchClient.now()));
        ok.push(client);
        done++;
        lastOk = BenchClient.now();
      } catch (err) {
        failed++;
        const code = (err as { code?: string }).code ?? (err as Error).message;
        errors.set(code, (errors.get(code) ?? 0) + 1);
        client.terminate();
      }
      progress.update(done, failed);
    };
    await runLimited(maxClients, this.opts.concurrency, one);
    progress.finish(done, failed);
    for (const [code, n] of errors) this.line(`connect/hello failed for ${n} clients: ${code}`);
    ok.sort((a, b) => a.index - b.index);
    this.live = ok;
    const ms = lastOk - started;
    return { connected: ok.length, failed, ms: round(ms), hellosPerSec: round(ratePerSec(ok.length, ms)) };
  }

  /**
   * Puts the live clients into rooms of `-roomSize` (the last one may be smaller), joins them
   * `-concurrency` at a time, and waits until every member has seen a join for every member of
   * its room (own session included) or the set-up timeout passes.
   */
  async joinRooms(roomSize: number): Promise<JoinResult> {
    const clients = this.live;
    const rooms = Math.ceil(clients.length / roomSize);
    this.#roomSizes = new Array<number>(rooms).fill(0);
    clients.forEach((c, pos) => {
      const room = Math.floor(pos / roomSize);
      this.#roomOf.set(c.index, room);
      this.#roomSizes[room]!++;
    });
    const progress = this.#progress('joining', clients.length);
    const started = BenchClient.now();
    const deadline = started + this.opts.timeoutMs;
    let fillAt: number | null = null;
    const filled = new Promise<void>((resolve) => {
      this.#onFull = () => {
        fillAt ??= BenchClient.now();
        resolve();
      };
    });
    let joined = 0;
    let failed = 0;
    let lastJoin = started;
    const joinedClients: BenchClient[] = [];
    await runLimited(clients.length, this.opts.concurrency, async (pos) => {
      const client = clients[pos] as BenchClient;
      const room = this.#roomOf.get(client.index) as number;
      try {
        await client.join(`bench-${this.tag}-room-${room}`, `bench-${this.tag}-rs-${client.index}`, Math.max(1, deadline - BenchClient.now()));
        joined++;
        joinedClients.push(client);
        lastJoin = BenchClient.now();
      } catch (err) {
        failed++;
        this.line(`join failed: ${(err as Error).message}`);
        // The room will have one member fewer: re-check its members.
        this.#roomOf.delete(client.index);
        this.#roomSizes[room]!--;
        for (const c of clients) if (this.#roomOf.get(c.index) === room) this.members(c);
      }
      progress.update(joined, failed);
    });
    progress.finish(joined, failed);
    const joinMs = lastJoin - started;
    const fillProgress = this.#progress('room fill', this.#roomOf.size);
    const ticker = setInterval(() => fillProgress.update(this.#full.size), 200);
    if (this.#full.size >= this.#roomOf.size) this.#onFull?.();
    let timeout: NodeJS.Timeout | undefined;
    await Promise.race([filled, new Promise((r) => (timeout = setTimeout(r, Math.max(0, deadline - BenchClient.now()))))]);
    clearTimeout(timeout);
    clearInterval(ticker);
    fillProgress.finish(this.#full.size);
    this.#onFull = undefined;
    this.live = joinedClients.sort((a, b) => a.index - b.index);
    return {
      rooms,
      joined,
      failed,
      joinMs: round(joinMs),
      joinsPerSec: round(ratePerSec(joined, joinMs)),
      fillMs: fillAt === null ? null : round((fillAt as number) - started),
    };
  }

  /** Number of room members each message of `client` reaches (room size minus the sender). */
  fanout(client: BenchClient): number {
    const room = this.#roomOf.get(client.index);
    return room === undefined ? 1 : Math.max(0, (this.#roomSizes[room] ?? 1) - 1);
  }

  /**
   * Runs `driver` for `-duration`, printing a Stats line every `-interval`, then stops it and
   * waits (bounded) for deliveries still in flight.
   */
  async measure(driver: Driver): Promise<MeasureResult> {
    const { durationMs, intervalMs } = this.opts;
    const c = this.counters;
    const snap = (): CounterSnapshot => ({ at: BenchClient.now(), sent: c.sent, recv: c.recv, expected: c.expected });
    const base = snap();
    const cpuStart = sampleServer(this.opts.serverPid);
    let prev = base;
    this.#driver = driver;
    this.#measuring = true;
    this.latency.reset();
    this.#intervalLatency.reset();
    const stats = setInterval(() => {
      const now = snap();
      this.line(formatStatsLine(prev, now, this.#intervalLatency));
      this.#intervalLatency.reset();
      prev = now;
    }, intervalMs);
    const ticker = setInterval(() => driver.tick(BenchClient.now()), 1_000);
    driver.start();
    await sleep(durationMs);
    driver.stop();
    clearInterval(stats);
    clearInterval(ticker);
    const end = snap();
    const cpuEnd = sampleServer(this.opts.serverPid);
    if (end.at - prev.at >= 100) this.line(formatStatsLine(prev, end, this.#intervalLatency));
    // Deliveries of messages sent before the end still count (and are timed).
    const drainUntil = BenchClient.now() + DRAIN_MS;
    while (c.recv < c.expected && BenchClient.now() < drainUntil) await sleep(20);
    this.#measuring = false;
    this.#driver = undefined;
    return {
      ms: round(end.at - base.at),
      sent: c.sent - base.sent,
      recv: c.recv - base.recv,
      recvInWindow: end.recv - base.recv,
      expected: c.expected - base.expected,
      lost: Math.max(0, c.expected - c.recv),
      skipped: c.skipped,
      cpuSec: cpuStart !== undefined && cpuEnd !== undefined ? round(cpuEnd.cpuSec - cpuStart.cpuSec) : undefined,
    };
  }

  /** Says bye on every connection and waits (bounded) for them to close. */
  async close(): Promise<void> {
    const all = this.#byIndex.filter((c) => c !== undefined);
    for (const c of all) c.bye();
    const until = BenchClient.now() + CLOSE_MS;
    while (all.some((c) => !c.closed) && BenchClient.now() < until) await sleep(20);
    for (const c of all) if (!c.closed) c.terminate();
  }
}

/** Runs `task(0..count-1)` with at most `limit` running at once (0 = all at once). */
export async function runLimited(count: number, limit: number, task: (i: number) => Promise<void>): Promise<void> {
  const width = limit <= 0 ? count : Math.min(limit, count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: width }, worker));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
