import { readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { freePort } from './free-port';
import { ManagedServer, ProcessStartError, Spawned, type ManagedProcess } from './managed-process';

/** Where the Debian package installs the Janus modules. */
export const JANUS_LIB_DIR = '/usr/lib/x86_64-linux-gnu/janus';
/** Start-up deadline per attempt (ms); Janus is ready well under a second here. */
const JANUS_READY_TIMEOUT_MS = 15_000;
/** Attempts with a fresh WebSocket port when the picked one was taken meanwhile. */
const JANUS_PORT_ATTEMPTS = 3;
/**
 * Default RTP range: wide enough that several Janus instances in one test run (each picking
 * random ports inside the range) rarely collide, narrow enough to stay out of the ephemeral
 * range (32768+ on Linux) that freePort() hands out.
 */
export const DEFAULT_RTP_PORT_RANGE = '20000-29999';

/** Options for {@link startJanus}. */
export interface JanusOptions {
  /** `media.rtp_port_range`; default {@link DEFAULT_RTP_PORT_RANGE}. */
  rtpPortRange?: string;
  /** `general.interface`: the address Janus advertises (media tests in a network namespace). */
  interface?: string;
  /** `nat.ice_enforce_list`: interfaces Janus gathers ICE candidates on. */
  iceEnforceList?: string;
}

/**
 * Starts Janus with a generated config folder: VideoRoom plugin and WebSocket transport only,
 * listening on `ws://127.0.0.1:P` (subprotocol `janus-protocol`). Ready when an `info` request
 * lists `janus.plugin.videoroom`. `restart()` keeps the port.
 */
export async function startJanus(opts: JanusOptions = {}): Promise<ManagedProcess> {
  const tempDir = await mkdtemp(path.join(tmpdir(), 'talk-janus-'));
  // Ready means *this* Janus answers: when its port was taken meanwhile (another test's
  // Janus or proxy), something else may answer `info` there — its server name tells them apart.
  const serverName = `talk-test-${path.basename(tempDir)}`;
  let port = 0;
  const launch = async (): Promise<Spawned> => {
    await writeJanusConfig(tempDir, port, serverName, opts);
    const child = new Spawned('janus', 'janus', ['-F', tempDir, '-C', path.join(tempDir, 'janus.jcfg'), '--disable-colors']);
    await child.ready(() => janusInfoHasVideoRoom(`ws://127.0.0.1:${port}`, serverName), JANUS_READY_TIMEOUT_MS);
    return child;
  };

  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      const first = await launch();
      return new ManagedServer(`ws://127.0.0.1:${port}`, port, first, { launch, tempDir });
    } catch (err) {
      // Janus keeps running when its transport cannot bind, so a taken port shows up as a
      // readiness timeout; retry those with a new port, give up on anything else.
      const retry = err instanceof ProcessStartError && /timed out/.test(err.message);
      if (!retry || attempt >= JANUS_PORT_ATTEMPTS) {
        await rm(tempDir, { recursive: true, force: true });
        throw err;
      }
    }
  }
}

/** `.so` modules in `folder` except `keep` (for the `disable` lists). */
function modulesExcept(folder: string, keep: string[]): string {
  let files: string[];
  try {
    files = readdirSync(path.join(JANUS_LIB_DIR, folder));
  } catch (err) {
    throw new Error(`janus: module folder ${path.join(JANUS_LIB_DIR, folder)} missing; install the Debian package janus`, { cause: err });
  }
  return files.filter((f) => f.endsWith('.so') && !keep.includes(f)).join(',');
}

async function writeJanusConfig(dir: string, wsPort: number, serverName: string, opts: JanusOptions): Promise<void> {
  const janusJcfg = `general: {
  configs_folder = "${dir}"
  plugins_folder = "${JANUS_LIB_DIR}/plugins"
  transports_folder = "${JANUS_LIB_DIR}/transports"
  events_folder = "${JANUS_LIB_DIR}/events"
  loggers_folder = "${JANUS_LIB_DIR}/loggers"
  debug_level = 4
  server_name = "${serverName}"${opts.interface ? `\n  interface = "${opts.interface}"` : ''}
}
media: {
  rtp_port_range = "${opts.rtpPortRange ?? DEFAULT_RTP_PORT_RANGE}"
}
nat: {${opts.iceEnforceList ? `\n  ice_enforce_list = "${opts.iceEnforceList}"` : ''}
  ignore_mdns = true
}
plugins: {
  disable = "${modulesExcept('plugins', ['libjanus_videoroom.so'])}"
}
transports: {
  disable = "${modulesExcept('transports', ['libjanus_websockets.so'])}"
}
events: {
  broadcast = false
  disable = "${modulesExcept('events', [])}"
}
loggers: {
  disable = "${modulesExcept('loggers', [])}"
}
`;
  const websockets = `general: {
  json = "plain"
  ws = true
  ws_port = ${wsPort}
  ws_ip = "127.0.0.1"
  wss = false
}
admin: {
  admin_ws = false
  admin_wss = false
}
`;
  await writeFile(path.join(dir, 'janus.jcfg'), janusJcfg);
  await writeFile(path.join(dir, 'janus.transport.websockets.jcfg'), websockets);
  await writeFile(path.join(dir, 'janus.plugin.videoroom.jcfg'), 'general: {\n}\n');
}

/** One `info` round trip; true when the server is `serverName` and lists the VideoRoom plugin. */
function janusInfoHasVideoRoom(url: string, serverName: string): Promise<boolean> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, 'janus-protocol');
    const done = (value: boolean): void => {
      clearTimeout(timer);
      ws.removeAllListeners();
      ws.on('error', () => undefined);
      ws.terminate();
      resolve(value);
    };
    const timer = setTimeout(() => done(false), 1_000);
    ws.on('error', () => done(false));
    ws.on('open', () => ws.send(JSON.stringify({ janus: 'info', transaction: 'ready-check' })));
    ws.on('message', (data) => {
      try {
        const reply = JSON.parse(data.toString()) as { janus?: string; 'server-name'?: string; plugins?: Record<string, unknown> };
        done(reply.janus === 'server_info' && reply['server-name'] === serverName && reply.plugins?.['janus.plugin.videoroom'] !== undefined);
      } catch {
        done(false);
      }
    });
  });
}
