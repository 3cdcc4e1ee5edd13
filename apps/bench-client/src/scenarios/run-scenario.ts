// The scenarios (`-scenario`), each a sequence of the phases in BenchRun, and the summary they
// produce (the JSON line main prints last).
import type { BenchOptions } from '../cli';
import { BenchRun, type ConnectResult, type JoinResult, type MeasureResult, type RunOutput } from '../bench-run';
import { sampleServer, type ServerSample } from '../server-probe';
import { ratePerSec, round } from '../stats';
import { ClosedLoopDriver } from './closed-loop-driver';
import { FixedRateDriver } from './fixed-rate-driver';
import { SoakRun, type SoakReport } from './soak';

/** The machine-readable result of a run. */
export interface BenchSummary {
  type: 'bench-summary';
  scenario: BenchOptions['scenario'];
  addr: string;
  clients: number;
  connected: number;
  connectFailed: number;
  connectMs: number;
  hellosPerSec: number;
  roomSize?: number;
  rooms?: number;
  joined?: number;
  joinsPerSec?: number;
  fillMs?: number | null;
  durationMs?: number;
  rate?: number;
  sent?: number;
  recv?: number;
  expected?: number;
  lost?: number;
  skipped?: number;
  sentPerSec?: number;
  /** Deliveries per second inside the window (a room message counts once per receiver). */
  recvPerSec?: number;
  latencyMs?: { p50: number; p95: number; p99: number; max: number; mean: number };
  errors: Record<string, number>;
  closeReasons: Record<string, number>;
  server?: {
    pid: number;
    rssBaseKiB: number;
    rssKiB: number;
    rssPerConnKiB: number;
    cpuSec?: number;
    cpuUsPerDelivery?: number;
  };
  authRequests?: Record<string, number>;
  /** `-scenario soak`: churn, memory over time and the verdict. */
  soak?: SoakReport;
}

/** Runs the scenario of `opts` against `authUrl` and returns its summary. Always closes the clients. */
export async function runScenario(opts: BenchOptions, authUrl: string, out: RunOutput): Promise<BenchSummary> {
  if (opts.scenario === 'soak') return runSoak(opts, authUrl, out);
  const run = new BenchRun(opts, authUrl, out);
  let connect: ConnectResult | undefined;
  let join: JoinResult | undefined;
  let measured: MeasureResult | undefined;
  let loaded: ServerSample | undefined;
  try {
    connect = await run.connect();
    out.line(`Connected ${connect.connected}/${opts.maxClients} clients in ${(connect.ms / 1_000).toFixed(2)}s (${connect.hellosPerSec} hellos/s)`);
    if (connect.connected >= 2) {
      switch (opts.scenario) {
        case 'connect':
          loaded = sampleServer(opts.serverPid);
          break;
        case 'rooms':
        case 'broadcast': {
          join = await run.joinRooms(opts.roomSize);
          out.line(
            `Joined ${join.joined} clients to ${join.rooms} rooms in ${(join.joinMs / 1_000).toFixed(2)}s (${join.joinsPerSec} joins/s); ` +
              (join.fillMs === null ? 'rooms NOT filled within the timeout' : `rooms filled after ${(join.fillMs / 1_000).toFixed(2)}s`),
          );
          if (opts.scenario === 'rooms') {
            loaded = sampleServer(opts.serverPid);
            break;
          }
          const driver = isRateGiven(opts) && opts.rate > 0 ? new FixedRateDriver(run, 'room', opts.rate) : new ClosedLoopDriver(run, 'room');
          measured = await run.measure(driver);
          loaded = sampleServer(opts.serverPid);
          break;
        }
        case 'messages':
          measured = await run.measure(new ClosedLoopDriver(run, 'session'));
          loaded = sampleServer(opts.serverPid);
          break;
        case 'rate':
          measured = await run.measure(new FixedRateDriver(run, 'session', opts.rate));
          loaded = sampleServer(opts.serverPid);
          break;
      }
    }
  } finally {
    await run.close();
  }
  const summary: BenchSummary = {
    type: 'bench-summary',
    scenario: opts.scenario,
    addr: opts.addrs.join(','),
    clients: opts.maxClients,
    connected: connect?.connected ?? 0,
    connectFailed: connect?.failed ?? opts.maxClients,
    connectMs: connect?.ms ?? 0,
    hellosPerSec: connect?.hellosPerSec ?? 0,
    errors: Object.fromEntries(run.counters.errors),
    closeReasons: Object.fromEntries(run.closeReasons),
  };
  if (join !== undefined) {
    Object.assign(summary, { roomSize: opts.roomSize, rooms: join.rooms, joined: join.joined, joinsPerSec: join.joinsPerSec, fillMs: join.fillMs });
  }
  if (measured !== undefined) {
    const lat = run.latency;
    Object.assign(summary, {
      durationMs: measured.ms,
      ...(opts.scenario === 'rate' || (opts.scenario === 'broadcast' && isRateGiven(opts)) ? { rate: opts.rate } : {}),
      sent: measured.sent,
      recv: measured.recv,
      expected: measured.expected,
      lost: measured.lost,
      skipped: measured.skipped,
      sentPerSec: round(ratePerSec(measured.sent, measured.ms)),
      recvPerSec: round(ratePerSec(measured.recvInWindow, measured.ms)),
      latencyMs: {
        p50: round(lat.percentile(50) / 1_000),
        p95: round(lat.percentile(95) / 1_000),
        p99: round(lat.percentile(99) / 1_000),
        max: round(lat.max / 1_000),
        mean: round(lat.mean / 1_000),
      },
    });
  }
  const base = run.serverBase;
  if (opts.serverPid !== undefined && base !== undefined && loaded !== undefined && summary.connected > 0) {
    summary.server = {
      pid: opts.serverPid,
      rssBaseKiB: base.rssKiB,
      rssKiB: loaded.rssKiB,
      rssPerConnKiB: round((loaded.rssKiB - base.rssKiB) / summary.connected),
      ...(measured?.cpuSec !== undefined
        ? { cpuSec: measured.cpuSec, cpuUsPerDelivery: measured.recvInWindow > 0 ? round((measured.cpuSec * 1e6) / measured.recvInWindow) : undefined }
        : {}),
    };
  }
  return summary;
}

/** The soak has its own population and phases (scenarios/soak.ts); its report rides in the summary. */
async function runSoak(opts: BenchOptions, authUrl: string, out: RunOutput): Promise<BenchSummary> {
  const soak = await new SoakRun(opts, authUrl, out).run();
  return {
    type: 'bench-summary',
    scenario: 'soak',
    addr: opts.addrs.join(','),
    clients: opts.maxClients,
    connected: soak.steady,
    connectFailed: soak.steadyFailed,
    connectMs: 0,
    hellosPerSec: 0,
    errors: soak.cycleErrors,
    closeReasons: {},
    soak,
  };
}

/** `-rate` applies to broadcast only when given explicitly (its default is for `-scenario rate`). */
function isRateGiven(opts: BenchOptions): boolean {
  return opts.rateExplicit;
}
