// End-to-end media run (bundled to dist/tools/e2e/main.js; started by run-in-netns.mjs inside a
// private network namespace). Starts Janus, the fake Nextcloud, the built signaling server with
// `[mcu] type = janus` and a page server, then drives Debian's Chromium through playwright-core:
// page 1 publishes its fake camera and microphone via the MCU flow, page 2 subscribes with
// `requestoffer` and polls getStats() until video frames are decoded and audio packets arrive.
// In mode `signaling` the steps of src/scenario.ts follow (stream selection, renegotiation,
// screen share, Janus killed and restarted mid-call).
// Prints one JSON line (E2eResult) on stdout, progress on stderr; exit code 0 only on success.
// Every wait is bounded; the whole run is bounded by --timeout (default 60 s).
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { BrowserContext, Page } from 'playwright-core';
import { startFakeNextcloud, type FakeNextcloud } from '@talk-signaling/fake-nextcloud';
import { startE2eJanus, type E2eJanus } from './janus';
import { isAlive, netnsOf, processesInNetns, NETNS_ADDRESS, type ProcessInfo } from './netns';
import { startPageServer, type PageServer } from './page-server';
import type { E2eState, InboundStats } from './page/types';
import { CHROMIUM_ARGS, CHROMIUM_PATH, type E2eResult } from './result';
import { runScenario, type ScenarioResult } from './scenario';
import { mcuStats, startE2eProxies, waitForProxiesConnected, type E2eProxy } from './proxy';
import { startE2eSignaling, type E2eSignaling } from './signaling';
import { proxyCommandCounts, startGoSignaling, waitForProxySession } from './go-signaling';

const ROOM = 'e2e-media-room';
const BACKEND_SECRET = 'e2e-backend-secret';

const { values: flags } = parseArgs({
  options: {
    mode: { type: 'string', default: 'signaling' },
    timeout: { type: 'string', default: '60000' },
  },
  strict: true,
});
const MODES = ['signaling', 'janus', 'proxy', 'go-proxy', 'proxy-remote', 'go-signaling'] as const;
const mode = MODES.find((m) => m === flags.mode) ?? 'signaling';
/**
 * Proxy modes: signaling → (our mcu-proxy | the Go proxy 0.4.1) → Janus, the first media only;
 * `proxy-remote`: two of our proxies, each with its own Janus, the publisher on the first and the
 * subscriber (another GeoIP country) on the second, which pulls the stream as a remote stream;
 * `go-signaling`: the Go signaling server 0.4.1 → our mcu-proxy, a screen stream only (Debian's
 * build refuses camera offers).
 */
const viaProxy = mode === 'proxy' || mode === 'go-proxy' || mode === 'proxy-remote' || mode === 'go-signaling';
/** The stream published and subscribed first: the camera, or a canvas as screen share (Go server). */
const firstStream = mode === 'go-signaling' ? 'screen' : 'video';
/** `proxy-remote`: the subscriber's page connects through the bridge address, placed in another country. */
const REMOTE_COUNTRIES = { publisher: 'DE', subscriber: 'US' };
const totalTimeoutMs = Number(flags.timeout);
if (!Number.isInteger(totalTimeoutMs) || totalTimeoutMs < 10_000) throw new Error(`--timeout: expected ms >= 10000, got ${flags.timeout}`);

const t0 = Date.now();
const timings: Record<string, number> = {};
function mark(name: string): void {
  timings[name] = Date.now() - t0;
  progress(name);
}
function progress(text: string): void {
  process.stderr.write(`[e2e +${Date.now() - t0}ms] ${text}\n`);
}

/** Everything started, for teardown in reverse. */
const started: { janus?: E2eJanus; janus2?: E2eJanus; proxy?: E2eProxy; nc?: FakeNextcloud; signaling?: E2eSignaling; pages?: PageServer; context?: BrowserContext; profile?: string } = {};
const pageStates: Record<string, E2eState | undefined> = {};
/** Proxy modes: the signaling server's per-proxy stats once media flowed. */
let proxyStats: unknown;
const scenario: ScenarioResult = {};
const ownNetns = netnsOf('self') as string;
const seen: ProcessInfo[] = [];

/** Remembers every process of the namespace (all of them are ours) for the leak check. */
function recordProcesses(): void {
  for (const p of processesInNetns(ownNetns, [process.pid])) {
    if (!seen.some((s) => s.pid === p.pid)) seen.push(p);
  }
}

function remaining(): number {
  return Math.max(1_000, totalTimeoutMs - (Date.now() - t0) - 5_000);
}

/** Bound of each page step (publishing; receiving media), within the overall timeout. */
const STEP_TIMEOUT_MS = 20_000;

async function watchPage(page: Page, name: string, until: (s: E2eState) => boolean): Promise<E2eState> {
  const deadline = Date.now() + Math.min(STEP_TIMEOUT_MS, remaining());
  for (;;) {
    const state = (await page.evaluate(() => window.e2e)) as E2eState | undefined;
    pageStates[name] = state;
    recordProcesses();
    if (state?.phase === 'failed') throw new Error(`${name} page failed: ${state.error}`);
    if (state !== undefined && until(state)) return state;
    if (Date.now() > deadline) throw new Error(`${name} page: timed out in phase ${state?.phase ?? 'loading'}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function run(): Promise<InboundStats> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`${CHROMIUM_PATH} missing: install the Debian package chromium (the test command does)`);
  const repoRoot = path.resolve(__dirname, '../../..');
  const clientJs = path.join(__dirname, 'client.js');

  started.janus = await startE2eJanus();
  mark('janus');

  const nc = (started.nc = await startFakeNextcloud({ secret: BACKEND_SECRET }));
  const publisherUser = nc.addUser('e2e-publisher');
  const subscriberUser = nc.addUser('e2e-subscriber');
  // For the connections that only look at the announced features (Janus restart step).
  const probeUser = nc.addUser('e2e-probe');
  nc.setRoom(ROOM, {});
  mark('nextcloud');

  if (mode === 'proxy-remote') {
    started.janus2 = await startE2eJanus();
    mark('janus2');
  }
  if (viaProxy) {
    started.proxy = await startE2eProxies({
      kind: mode === 'go-proxy' ? 'go' : 'ours',
      janusUrls: [started.janus.url, ...(started.janus2 ? [started.janus2.url] : [])],
      ...(mode === 'proxy-remote' ? { countries: [REMOTE_COUNTRIES.publisher, REMOTE_COUNTRIES.subscriber], remoteStreams: true } : {}),
      mcuProxyMainJs: path.join(repoRoot, 'dist/apps/mcu-proxy/main.js'),
    });
    mark('proxy');
  }
  if (mode === 'go-signaling') {
    started.signaling = await startGoSignaling({ backendSecret: BACKEND_SECRET, mcuSection: (started.proxy as E2eProxy).mcuSection });
    await waitForProxySession((started.proxy as E2eProxy).urls[0] as string, remaining());
    mark('signaling');
  } else if (mode !== 'janus') {
    started.signaling = await startE2eSignaling({
      mainJs: path.join(repoRoot, 'dist/apps/signaling/main.js'),
      backendUrl: nc.url,
      backendSecret: BACKEND_SECRET,
      janusUrl: started.janus.url,
      ...(started.proxy ? { mcuSection: started.proxy.mcuSection } : {}),
      ...(mode === 'proxy-remote'
        ? {
            extraAddress: NETNS_ADDRESS,
            extraConfig: `[geoip-overrides]\n127.0.0.1 = ${REMOTE_COUNTRIES.publisher}\n${NETNS_ADDRESS} = ${REMOTE_COUNTRIES.subscriber}`,
          }
        : {}),
    });
    if (started.proxy) await waitForProxiesConnected(started.signaling.wsUrl, started.proxy.urls.length, remaining());
    mark('signaling');
  }

  started.pages = await startPageServer(clientJs);
  started.profile = await mkdtemp(path.join(tmpdir(), 'talk-e2e-chromium-'));
  const { chromium } = await import('playwright-core');
  started.context = await chromium.launchPersistentContext(started.profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_ARGS],
    timeout: remaining(),
  });
  recordProcesses();
  mark('browser');

  const janusRoom = 1000 + Math.floor(Math.random() * 1e6);
  const pageUrl = (role: string, user: { userid: string; ticket: string }, extra: Record<string, string> = {}): string => {
    const q = new URLSearchParams({ role, mode: viaProxy ? 'signaling' : mode, room: ROOM, userid: user.userid, ticket: user.ticket, backend: nc.backendUrl, stream: firstStream, ...extra });
    if (started.signaling !== undefined && extra['ws'] === undefined) q.set('ws', started.signaling.wsUrl);
    q.set('janus', started.janus?.url ?? '');
    q.set('janusRoom', String(janusRoom));
    return `${started.pages?.url}?${q.toString()}`;
  };

  const publisher = started.context.pages()[0] ?? (await started.context.newPage());
  await publisher.goto(pageUrl('publisher', publisherUser), { timeout: remaining() });
  const published = await watchPage(publisher, 'publisher', (s) => s.phase === 'publishing');
  mark('published');

  const subscriber = await started.context.newPage();
  const subscriberWs: Record<string, string> = mode === 'proxy-remote' && started.signaling ? { ws: started.signaling.wsUrl.replace('127.0.0.1', NETNS_ADDRESS) } : {};
  await subscriber.goto(pageUrl('subscriber', subscriberUser, { feed: published.sessionId ?? '', ...subscriberWs }), { timeout: remaining() });
  const received = await watchPage(subscriber, 'subscriber', (s) => s.phase === 'done');
  mark('media');
  // Go signaling: what our proxy was asked to do (its command counters); otherwise our server's view of its proxies.
  if (mode === 'go-signaling') proxyStats = await proxyCommandCounts((started.proxy as E2eProxy).urls[0] as string);
  else if (started.signaling !== undefined && started.proxy !== undefined) proxyStats = (await mcuStats(started.signaling.wsUrl))?.details;
  if (started.signaling === undefined || viaProxy) return received.stats as InboundStats;

  const pages = { publisher, subscriber };
  await runScenario({
    publisher,
    subscriber,
    janus: started.janus,
    wsUrl: started.signaling.wsUrl,
    probeAuth: { url: nc.backendUrl, params: probeUser },
    result: scenario,
    progress,
    mark,
    refreshPages: async () => {
      for (const [name, page] of Object.entries(pages)) pageStates[name] = (await page.evaluate(() => window.e2e)) as E2eState | undefined;
      recordProcesses();
      return { ...pageStates };
    },
  });
  // The subscriber's last reading of the camera stream.
  return { ...(await subscriber.evaluate(() => (window.e2eApi as NonNullable<typeof window.e2eApi>).stats('video'))), pollMs: received.stats?.pollMs ?? 0 };
}

/** Re-reads the pages' `window.e2e` for the failure report (bounded; pages may be gone). */
async function refreshPageStates(): Promise<void> {
  const pages = started.context?.pages() ?? [];
  for (const page of pages) {
    try {
      const state = (await Promise.race([page.evaluate(() => window.e2e), new Promise<undefined>((r) => setTimeout(() => r(undefined), 1_000))])) as E2eState | undefined;
      if (state !== undefined) pageStates[state.role] = state;
    } catch {
      // page closed or crashed
    }
  }
}

/** Stops everything in reverse order, then kills whatever is still alive in the namespace. */
async function teardown(): Promise<ProcessInfo[]> {
  recordProcesses();
  const step = async (name: string, fn: () => Promise<unknown>): Promise<void> => {
    try {
      await Promise.race([fn(), new Promise((_, reject) => setTimeout(() => reject(new Error('timed out')), 5_000))]);
    } catch (err) {
      progress(`teardown ${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  if (started.context !== undefined) await step('chromium', () => (started.context as BrowserContext).close());
  if (started.profile !== undefined) await step('profile', () => rm(started.profile as string, { recursive: true, force: true }));
  if (started.pages !== undefined) await step('page server', () => (started.pages as PageServer).close());
  if (started.signaling !== undefined) await step('signaling', () => (started.signaling as E2eSignaling).stop());
  if (started.proxy !== undefined) await step('proxy', () => (started.proxy as E2eProxy).stop());
  if (started.nc !== undefined) await step('nextcloud', () => (started.nc as FakeNextcloud).close());
  if (started.janus !== undefined) await step('janus', () => (started.janus as E2eJanus).stop());
  if (started.janus2 !== undefined) await step('janus2', () => (started.janus2 as E2eJanus).stop());
  // Anything left (a Chromium helper that outlived the browser, say) is killed and reported.
  const leftover = processesInNetns(ownNetns, [process.pid]);
  for (const p of leftover) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  const deadline = Date.now() + 2_000;
  while (leftover.some((p) => isAlive(p.pid)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return leftover;
}

async function main(): Promise<void> {
  progress(`namespace ${ownNetns}, bridge address ${NETNS_ADDRESS}, mode ${mode}`);
  let stats: InboundStats | undefined;
  let error: string | undefined;
  let overall: NodeJS.Timeout | undefined;
  try {
    stats = await Promise.race([
      run(),
      new Promise<never>((_, reject) => {
        // 5 s of the budget are kept for the teardown.
        const budget = totalTimeoutMs - 5_000;
        overall = setTimeout(() => reject(new Error(`run timed out after ${budget} ms`)), budget);
        // A caller that gives up (jest timeout, Ctrl-C) still gets the orderly teardown.
        for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => reject(new Error(`interrupted by ${signal}`)));
      }),
    ]);
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
    progress(`FAILED: ${error}`);
    await refreshPageStates();
    if (started.signaling !== undefined) progress(`signaling output (tail):\n${started.signaling.output().slice(-6_000)}`);
    if (started.proxy !== undefined) progress(`proxy output (tail):\n${started.proxy.output().slice(-4_000)}`);
    if (started.janus !== undefined) progress(`janus output (tail):\n${started.janus.output().slice(-4_000)}`);
    for (const [name, state] of Object.entries(pageStates)) progress(`${name} page log:\n  ${state?.log.join('\n  ') ?? '(none)'}`);
  } finally {
    clearTimeout(overall);
  }
  const leftover = await teardown();
  mark('teardown');
  // The screen stream of mode go-signaling carries no audio.
  const ok = error === undefined && stats !== undefined && stats.videoFramesDecoded > 0 && (firstStream === 'screen' || stats.audioPacketsReceived > 0);
  const result: E2eResult = {
    ok,
    mode,
    ...(error === undefined ? {} : { error }),
    ...(stats === undefined ? {} : { stats }),
    ...(mode === 'signaling' ? { scenario } : {}),
    ...(started.proxy ? { proxy: started.proxy.kind, proxyStats, proxyUrls: started.proxy.urls } : {}),
    serverErrors: Object.fromEntries(Object.entries(pageStates).map(([name, state]) => [name, state?.serverErrors ?? []])),
    address: NETNS_ADDRESS,
    netns: ownNetns,
    runnerPid: process.pid,
    timings,
    processes: seen,
    leftover,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(ok && leftover.length === 0 ? 0 : 1);
}

void main();
