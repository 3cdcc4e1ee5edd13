import { Registry } from 'prom-client';
import { silentLogger } from '@talk-signaling/runtime';
import { startFakeNextcloud, type FakeNextcloud } from '@talk-signaling/fake-nextcloud';
import { loadServerConfig } from '../src/config';
import type { HubTimeouts } from '../src/hub/hub';
import { SignalingServer, type SignalingServerOptions } from '../src/signaling-server';
import { startClusteredSetup } from './test-cluster';

export const INTERNAL_SECRET = 'test-internal-secret';

export interface TestSetup {
  server: SignalingServer;
  nextcloud: FakeNextcloud;
  /** The second Nextcloud (backend `nc2`) when `secondBackend` was asked for. */
  nextcloud2?: FakeNextcloud;
  /** `http://127.0.0.1:port/` */
  baseUrl: string;
  /** `ws://127.0.0.1:port/spreed` */
  wsUrl: string;
  /** On a cluster standing in for one server (`*.clustered.int.spec.ts`): every node. */
  nodes?: { server: SignalingServer; baseUrl: string }[];
  stop(): Promise<void>;
}

/** The node holding `sessionid` (on a single server: the server). */
export function nodeOf(setup: TestSetup, sessionid: string): { server: SignalingServer; baseUrl: string } {
  return setup.nodes?.find((n) => n.server.sessions.byPublicId(sessionid) !== undefined) ?? setup;
}

/** Whether the sessions `a` and `b` live on different nodes (never on a single server). */
export function onDifferentNodes(setup: TestSetup, a: string, b: string): boolean {
  return setup.nodes !== undefined && nodeOf(setup, a) !== nodeOf(setup, b);
}

/** Every node of the setup (the server alone on a single server). */
export function allNodes(setup: TestSetup): { server: SignalingServer; baseUrl: string }[] {
  return setup.nodes ?? [setup];
}

/**
 * On a cluster: waits until what every node has published so far reached nats-server — e.g. the
 * `sessionjoined` announcement sent with a joiner's own join event. A node that starts hosting the
 * room only later would otherwise get that announcement late and answer it with its members, a
 * second `join` for them (as upstream does; clients tell joins apart by session id).
 */
export async function busesFlushed(setup: TestSetup): Promise<void> {
  await Promise.all(allNodes(setup).map((n) => n.server.bus.flush()));
}

/**
 * A `message`/`control` as it arrives: one that crossed nodes also names its recipient (as
 * upstream). Specs written for one server compare it without.
 */
export function withoutRecipient<T extends { message?: Record<string, unknown>; control?: Record<string, unknown> }>(setup: TestSetup, m: T): T {
  if (!setup.nodes) return m;
  const key = m.message ? 'message' : 'control';
  const { recipient: _recipient, ...rest } = (m[key] ?? {}) as Record<string, unknown>;
  return { ...m, [key]: rest };
}

export interface TestSetupOptions {
  /** Extra server.conf text appended to the generated config. */
  extraConfig?: string;
  /** Add a second backend `nc2` served by its own fake Nextcloud. */
  secondBackend?: boolean;
  /** `[clients] internalsecret`; default INTERNAL_SECRET. */
  internalSecret?: string;
  /** Extra lines for the backend section of the fake Nextcloud. */
  backendConfig?: string;
  timeouts?: Partial<HubTimeouts>;
  maxBufferedBytes?: number;
  throttleSleep?: (ms: number) => Promise<void>;
  roomEventBatchMs?: number;
  anonymousJoinTimeoutMs?: number;
  roomPingIntervalMs?: number;
  /** MCU timing overrides (pair with an `[mcu]` section in `extraConfig`). */
  mcu?: SignalingServerOptions['mcu'];
  /** Use this fake Nextcloud (left running by `stop()`) instead of starting one. */
  nextcloud?: FakeNextcloud;
  /** Listen on this port instead of a free one (e.g. to restart a server in place). */
  port?: number;
  /** `[nats] url` (default `nats://loopback`), e.g. a real nats-server shared by several servers. */
  natsUrl?: string;
  /** Any other server option (e.g. shorter federation reconnects). */
  serverOptions?: Partial<SignalingServerOptions>;
}

/**
 * A signaling server on a free loopback port, configured through the real server.conf loader,
 * with one fake Nextcloud as its backend.
 */
export async function startTestSetup(opts: TestSetupOptions = {}): Promise<TestSetup> {
  // `*.clustered.int.spec.ts` runs a spec again on a cluster (TALK_TEST_NODES, see test-cluster.ts).
  const nodes = Number(process.env['TALK_TEST_NODES'] ?? '1');
  if (nodes > 1 && opts.natsUrl === undefined && opts.nextcloud === undefined && opts.port === undefined && !opts.secondBackend) {
    return startClusteredSetup(opts, nodes);
  }
  const nextcloud = opts.nextcloud ?? (await startFakeNextcloud({ secret: 'test-backend-secret' }));
  const nextcloud2 = opts.secondBackend ? await startFakeNextcloud({ secret: 'second-backend-secret' }) : undefined;
  const text = [
    '[http]',
    `listen = 127.0.0.1:${opts.port ?? 0}`,
    '[sessions]',
    'hashkey = test-hash-key-with-32-characters',
    'blockkey = 0123456789abcdef',
    '[clients]',
    `internalsecret = ${opts.internalSecret ?? INTERNAL_SECRET}`,
    '[nats]',
    `url = ${opts.natsUrl ?? 'nats://loopback'}`,
    '[backend]',
    nextcloud2 ? 'backends = nc1, nc2' : 'backends = nc1',
    '[nc1]',
    `url = ${nextcloud.url}`,
    `secret = ${nextcloud.secret}`,
    opts.backendConfig ?? '',
    ...(nextcloud2 ? ['[nc2]', `url = ${nextcloud2.url}`, `secret = ${nextcloud2.secret}`] : []),
    opts.extraConfig ?? '',
  ].join('\n');
  const { config } = loadServerConfig(text, {});
  const server = new SignalingServer(config, {
    log: silentLogger(),
    registry: new Registry(),
    timeouts: opts.timeouts,
    maxBufferedBytes: opts.maxBufferedBytes,
    throttleSleep: opts.throttleSleep,
    roomEventBatchMs: opts.roomEventBatchMs,
    anonymousJoinTimeoutMs: opts.anonymousJoinTimeoutMs,
    roomPingIntervalMs: opts.roomPingIntervalMs,
    mcu: opts.mcu,
    ...opts.serverOptions,
  });
  let address: string | undefined;
  try {
    [address] = await server.start();
  } catch (err) {
    // What started before the failure (bus, listeners) must not keep the test process alive.
    await server.stop();
    if (!opts.nextcloud) await nextcloud.close();
    await nextcloud2?.close();
    throw err;
  }
  return {
    server,
    nextcloud,
    nextcloud2,
    baseUrl: `http://${address}/`,
    wsUrl: `ws://${address}/spreed`,
    async stop() {
      await server.stop();
      if (!opts.nextcloud) await nextcloud.close();
      await nextcloud2?.close();
    },
  };
}
