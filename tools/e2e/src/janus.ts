import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { freePort } from '@talk-signaling/testing';
import { NETNS_ADDRESS, NETNS_BRIDGE } from './netns';

/**
 * Janus for the media test. Same shape as `startJanus` of @talk-signaling/testing (generated
 * config folder, VideoRoom + WebSocket transport only, ready on an `info` round trip), plus the
 * ICE settings the media path needs: candidates are gathered on the namespace's bridge only
 * (`ice_enforce_list`), so the one host candidate is the bridge's private address (libnice never
 * offers loopback), and mDNS candidates of the browser are ignored (Chromium only hands out
 * mDNS names to pages without camera access; the subscriber is then reached peer-reflexively).
 */

const JANUS_LIB_DIR = '/usr/lib/x86_64-linux-gnu/janus';
const READY_TIMEOUT_MS = 10_000;
/** Janus' RTP ports; below the ephemeral range freePort() hands out. */
const RTP_PORT_RANGE = '20000-20999';

export interface E2eJanus {
  url: string;
  pid: number;
  /** Output tail (stdout+stderr) for failure reports. */
  output(): string;
  /** SIGKILL and wait for the exit; removes the config folder. Idempotent. */
  stop(): Promise<void>;
}

export async function startE2eJanus(): Promise<E2eJanus> {
  const dir = await mkdtemp(path.join(tmpdir(), 'talk-e2e-janus-'));
  const port = await freePort();
  await writeConfig(dir, port);
  const child = spawn('janus', ['-F', dir, '-C', path.join(dir, 'janus.jcfg'), '--disable-colors'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  const collect = (chunk: Buffer): void => {
    tail = (tail + chunk.toString()).slice(-16_384);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = exitOf(child);
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    await rm(dir, { recursive: true, force: true });
  };

  const url = `ws://127.0.0.1:${port}`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const spawnError = await Promise.race([exited.then((e) => e ?? 'exited'), new Promise<undefined>((r) => setTimeout(r, 50))]);
    if (spawnError !== undefined) {
      await stop();
      const why = spawnError instanceof Error ? spawnError.message : 'exited before it was ready';
      throw new Error(`janus: ${why} (is the Debian package janus installed?)\n${tail}`);
    }
    if (await hasVideoRoom(url)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`janus: not ready after ${READY_TIMEOUT_MS} ms\n${tail}`);
    }
  }
  return { url, pid: child.pid as number, output: () => tail, stop };
}

/** Resolves on exit (undefined) or spawn failure (the error). */
function exitOf(child: ChildProcess): Promise<Error | undefined> {
  return new Promise((resolve) => {
    child.once('error', (err) => resolve(err));
    child.once('exit', () => resolve(undefined));
  });
}

function modulesExcept(folder: string, keep: string[]): string {
  return readdirSync(path.join(JANUS_LIB_DIR, folder))
    .filter((f) => f.endsWith('.so') && !keep.includes(f))
    .join(',');
}

async function writeConfig(dir: string, wsPort: number): Promise<void> {
  let plugins: string;
  try {
    plugins = modulesExcept('plugins', ['libjanus_videoroom.so']);
  } catch (err) {
    throw new Error(`janus: ${JANUS_LIB_DIR} missing; install the Debian package janus`, { cause: err });
  }
  const janusJcfg = `general: {
  configs_folder = "${dir}"
  plugins_folder = "${JANUS_LIB_DIR}/plugins"
  transports_folder = "${JANUS_LIB_DIR}/transports"
  events_folder = "${JANUS_LIB_DIR}/events"
  loggers_folder = "${JANUS_LIB_DIR}/loggers"
  debug_level = 4
  interface = "${NETNS_ADDRESS}"
}
media: {
  rtp_port_range = "${RTP_PORT_RANGE}"
}
nat: {
  ice_enforce_list = "${NETNS_BRIDGE}"
  ignore_mdns = true
}
plugins: {
  disable = "${plugins}"
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

function hasVideoRoom(url: string): Promise<boolean> {
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
    ws.on('open', () => ws.send(JSON.stringify({ janus: 'info', transaction: 'ready' })));
    ws.on('message', (data) => {
      try {
        const reply = JSON.parse(data.toString()) as { janus?: string; plugins?: Record<string, unknown> };
        done(reply.janus === 'server_info' && reply.plugins?.['janus.plugin.videoroom'] !== undefined);
      } catch {
        done(false);
      }
    });
  });
}
