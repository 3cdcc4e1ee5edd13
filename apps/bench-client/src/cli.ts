// Command line of the bench client: upstream's Go-style single-dash flags (`-addr`, `-config`,
// `-maxClients`, fact sheet §8) plus our scenario flags. Pure functions, no I/O except
// `readBackendSecret`'s caller handing in the file text.

/** Scenarios selectable with `-scenario`. */
export const SCENARIOS = ['messages', 'rate', 'connect', 'rooms', 'broadcast', 'soak'] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** Default `-addr`: the README's embedded development server (`npm start`). Upstream: `localhost:28080`. */
export const DEFAULT_ADDR = '127.0.0.1:8080';
/** Default `-config`, as upstream. A missing default file falls back to the development backend. */
export const DEFAULT_CONFIG = 'server.conf';
/** Default `-maxClients`, as upstream. */
export const DEFAULT_MAX_CLIENTS = 100;
/**
 * Backend the development server (`npm start`) knows: the fake Nextcloud on 127.0.0.1:8081 in
 * open mode, which accepts any user and ticket and any room.
 */
export const DEV_BACKEND_URL = 'http://127.0.0.1:8081/ocs/v2.php/apps/spreed/api/v1/signaling/backend';

export interface BenchOptions {
  /** `host:port` list; clients are spread round-robin. */
  addrs: string[];
  /** `-config` path. */
  config: string;
  /** Whether `-config` was given explicitly (a missing explicit file is an error). */
  configExplicit: boolean;
  /** `-backend`: use this auth URL (an existing Nextcloud) instead of the local auth backend. */
  backend?: string;
  /** `-secret`: backend secret for the local auth backend, overrides `-config`. */
  secret?: string;
  maxClients: number;
  scenario: Scenario;
  /** Measurement time in ms (messages, rate, broadcast). */
  durationMs: number;
  /** Bound for each set-up phase (connect, join, fill) in ms. */
  timeoutMs: number;
  /** Stats line interval in ms (upstream: 10 s). */
  intervalMs: number;
  /** Connections / joins started in parallel; 0 = all at once. */
  concurrency: number;
  /** Aggregate messages per second for `rate` (and `broadcast` when > 0). */
  rate: number;
  /** Whether `-rate` was given (broadcast is closed-loop unless it was). */
  rateExplicit: boolean;
  /** Messages in flight per client in closed-loop scenarios. */
  window: number;
  /** Sessions per room (`rooms`, `broadcast`). */
  roomSize: number;
  /** PID of the server process, for RSS and CPU figures (Linux /proc). */
  serverPid?: number;
  /** `soak`: largest acceptable rise of the server's RSS level after the warm-up (MiB; heap: half). */
  maxGrowthMiB: number;
  /** Suppress the progress display. */
  quiet: boolean;
  help: boolean;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

interface FlagSpec {
  kind: 'string' | 'int' | 'duration' | 'bool';
  help: string;
  default?: string;
}

export const FLAGS: Record<string, FlagSpec> = {
  addr: { kind: 'string', default: DEFAULT_ADDR, help: 'comma-separated host:port list of signaling servers (clients spread round-robin)' },
  config: { kind: 'string', default: DEFAULT_CONFIG, help: 'server config to read [backend] secret from (missing default file: use the development backend)' },
  backend: { kind: 'string', help: `auth URL of an existing Nextcloud instead of the local auth backend (default without a config: ${DEV_BACKEND_URL})` },
  secret: { kind: 'string', help: 'backend secret for the local auth backend (overrides -config)' },
  maxClients: { kind: 'int', default: String(DEFAULT_MAX_CLIENTS), help: 'number of client connections (>= 2)' },
  scenario: { kind: 'string', default: 'messages', help: `one of ${SCENARIOS.join(', ')}` },
  duration: { kind: 'duration', default: '30s', help: 'measurement time (messages, rate, broadcast)' },
  timeout: { kind: 'duration', default: '120s', help: 'bound for each set-up phase (connect, join, room fill)' },
  interval: { kind: 'duration', default: '10s', help: 'interval of the Stats lines' },
  concurrency: { kind: 'int', default: '100', help: 'connections/joins started in parallel (0 = all at once)' },
  rate: { kind: 'int', default: '5000', help: 'aggregate messages/s for -scenario rate (and broadcast when set)' },
  window: { kind: 'int', default: '1', help: 'messages in flight per client (closed-loop scenarios)' },
  roomSize: { kind: 'int', default: '100', help: 'sessions per room (rooms, broadcast)' },
  serverPid: { kind: 'int', help: 'PID of the server process: report its RSS per connection and CPU time' },
  maxGrowth: { kind: 'int', default: '32', help: 'soak: largest acceptable rise of the server RSS level in MiB after the warm-up (heap: half)' },
  quiet: { kind: 'bool', help: 'no progress display' },
  help: { kind: 'bool', help: 'print this help' },
};

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** Parses a Go-style duration (`500ms`, `5s`, `2m`, `1h30m`, `1.5s`); a bare number means seconds. */
export function parseDuration(text: string): number {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1_000;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    total += Number(m[1]) * (DURATION_UNITS[m[2] as string] as number);
    matched = re.lastIndex;
  }
  if (matched === 0 || matched !== text.length) throw new UsageError(`invalid duration "${text}"`);
  return total;
}

function parseInteger(name: string, text: string): number {
  if (!/^-?\d+$/.test(text)) throw new UsageError(`invalid value "${text}" for flag -${name}`);
  return Number(text);
}

/**
 * Parses the flags like Go's `flag` package: `-name value`, `-name=value`, `--name` forms,
 * booleans without a value (or `-name=false`). Unknown flags and stray arguments are errors.
 */
export function parseArgs(argv: readonly string[]): BenchOptions {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const m = /^--?([A-Za-z][\w-]*)(?:=(.*))?$/s.exec(arg);
    if (m === null) throw new UsageError(`unexpected argument "${arg}"`);
    const name = m[1] as string;
    const spec = FLAGS[name];
    if (spec === undefined) throw new UsageError(`flag provided but not defined: -${name}`);
    let value = m[2];
    if (value === undefined) {
      if (spec.kind === 'bool') value = 'true';
      else {
        if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: -${name}`);
        value = argv[++i] as string;
      }
    }
    values.set(name, value);
  }
  const get = (name: string): string | undefined => values.get(name) ?? FLAGS[name]?.default;
  const int = (name: string): number => parseInteger(name, get(name) as string);
  const bool = (name: string): boolean => {
    const v = values.get(name);
    if (v === undefined) return false;
    if (v === 'true' || v === '1') return true;
    if (v === 'false' || v === '0') return false;
    throw new UsageError(`invalid boolean value "${v}" for flag -${name}`);
  };

  const addrs = (get('addr') as string)
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a !== '');
  if (addrs.length === 0) throw new UsageError('-addr needs at least one host:port');
  const scenario = get('scenario') as Scenario;
  if (!SCENARIOS.includes(scenario)) throw new UsageError(`unknown scenario "${scenario}" (one of ${SCENARIOS.join(', ')})`);
  const maxClients = int('maxClients');
  if (maxClients < 2) throw new UsageError('-maxClients must be at least 2');
  const opts: BenchOptions = {
    addrs,
    config: get('config') as string,
    configExplicit: values.has('config'),
    backend: values.get('backend'),
    secret: values.get('secret'),
    maxClients,
    scenario,
    durationMs: parseDuration(get('duration') as string),
    timeoutMs: parseDuration(get('timeout') as string),
    intervalMs: parseDuration(get('interval') as string),
    concurrency: int('concurrency'),
    rate: int('rate'),
    rateExplicit: values.has('rate'),
    window: int('window'),
    roomSize: int('roomSize'),
    serverPid: values.has('serverPid') ? int('serverPid') : undefined,
    maxGrowthMiB: int('maxGrowth'),
    quiet: bool('quiet'),
    help: bool('help'),
  };
  if (opts.durationMs <= 0) throw new UsageError('-duration must be positive (every run is bounded)');
  if (opts.timeoutMs <= 0) throw new UsageError('-timeout must be positive');
  if (opts.intervalMs < 100) throw new UsageError('-interval must be at least 100ms');
  if (opts.concurrency < 0) throw new UsageError('-concurrency must not be negative');
  if (opts.window < 1) throw new UsageError('-window must be at least 1');
  if (opts.roomSize < 2) throw new UsageError('-roomSize must be at least 2');
  if (opts.scenario === 'rate' && opts.rate <= 0) throw new UsageError('-rate must be positive for -scenario rate');
  if (opts.rate < 0) throw new UsageError('-rate must not be negative');
  if (opts.maxGrowthMiB <= 0) throw new UsageError('-maxGrowth must be positive');
  if (opts.backend !== undefined && !/^https?:\/\//.test(opts.backend)) throw new UsageError('-backend must be an http(s) URL');
  return opts;
}

/** The `-help` text. */
export function usage(): string {
  const lines = ['Usage: bench-client [flags]', ''];
  for (const [name, spec] of Object.entries(FLAGS)) {
    const arg = spec.kind === 'bool' ? '' : ` ${spec.kind === 'duration' ? 'duration' : spec.kind === 'int' ? 'int' : 'string'}`;
    lines.push(`  -${name}${arg}`);
    lines.push(`        ${spec.help}${spec.default !== undefined ? ` (default ${JSON.stringify(spec.default)})` : ''}`);
  }
  return lines.join('\n');
}

/**
 * Reads `[backend] secret` from server.conf text (INI: `#`/`;` comments, `key = value`),
 * as upstream's client does. Returns undefined when absent.
 */
export function readBackendSecret(configText: string): string | undefined {
  let section = '';
  for (const raw of configText.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const sec = /^\[([^\]]*)\]$/.exec(line);
    if (sec !== null) {
      section = (sec[1] as string).trim();
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0 || section !== 'backend') continue;
    if (line.slice(0, eq).trim() === 'secret') {
      const value = line.slice(eq + 1).trim();
      return value === '' ? undefined : value;
    }
  }
  return undefined;
}
