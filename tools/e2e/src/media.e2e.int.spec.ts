// End-to-end media: Debian's Chromium publishes its fake camera and microphone through our
// signaling server's MCU flow into Janus, a second page subscribes with `requestoffer`, and the
// subscriber's getStats() must show decoded video frames and received audio packets; then, still
// with real media (src/scenario.ts): stream selection, renegotiation from both ends, a screen
// share, and Janus SIGKILLed and restarted mid-call with the clients re-offering. Everything
// runs in a private network namespace (`unshare -n`) created per run by
// src/run-in-netns.mjs; the runner prints one JSON line (E2eResult) and tears everything down.
// Needs root, the Debian packages chromium, janus and iproute2 (the test command installs them)
// and the builds of `e2e` and `signaling` (the test target depends on both).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { isAlive, netnsOf, processesInNetns, type ProcessInfo } from './netns';
import { CHROMIUM_PATH, type E2eResult } from './result';
import type { ScenarioResult } from './scenario';

const repoRoot = path.resolve(__dirname, '../../..');
const script = path.join(repoRoot, 'tools/e2e/src/run-in-netns.mjs');
/** The runner bounds itself to this; the spawn below gets a little more before it is killed. */
const RUN_TIMEOUT_MS = 60_000;

interface RunOutcome {
  code: number | null;
  result: E2eResult;
  stderr: string;
  /** Processes found (and SIGKILLed) in the run's namespace after the runner exited. */
  strays: ProcessInfo[];
}

function runInNetns(mode: E2eResult['mode']): Promise<RunOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', ['-n', '--', process.execPath, script, '--mode', mode, '--timeout', String(RUN_TIMEOUT_MS)], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    // The namespace, read once the runner speaks (unshare has exec'd node by then): if the
    // runner had to be killed, whatever it started there is killed by us.
    let netns: string | undefined;
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      if (netns === undefined && child.pid !== undefined) netns = netnsOf(child.pid);
    });
    // The runner bounds itself; past that, SIGTERM (orderly teardown), then SIGKILL.
    const terminator = setTimeout(() => child.kill('SIGTERM'), RUN_TIMEOUT_MS + 5_000);
    const killer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS + 12_000);
    child.once('error', (err) => {
      clearTimeout(terminator);
      clearTimeout(killer);
      reject(new Error(`could not start unshare: ${err.message}`));
    });
    child.once('close', (code) => {
      clearTimeout(terminator);
      clearTimeout(killer);
      const strays = netns !== undefined && netns !== netnsOf('self') ? killNetns(netns) : [];
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve({ code, result: JSON.parse(line) as E2eResult, stderr, strays });
      } catch {
        reject(new Error(`runner printed no result line (exit ${code})\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr.slice(-8_000)}`));
      }
    });
  });
}

/** SIGKILLs every process left in `netns` (none, unless the runner itself was killed). */
function killNetns(netns: string): ProcessInfo[] {
  const found = processesInNetns(netns);
  for (const p of found) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Fails with the runner's own report when the run failed. */
function expectSuccess(outcome: RunOutcome): void {
  if (!outcome.result.ok || outcome.code !== 0) {
    throw new Error(`e2e run failed (exit ${outcome.code}): ${outcome.result.error ?? 'see below'}\n--- runner stderr ---\n${outcome.stderr.slice(-12_000)}`);
  }
}

/** Nothing the run started may be alive any more, in its namespace or anywhere. */
function expectNothingLeft({ result, strays }: RunOutcome): void {
  expect(strays).toEqual([]);
  expect(result.leftover).toEqual([]);
  const survivors = result.processes.filter((p) => isAlive(p.pid) && netnsOf(p.pid) === result.netns);
  expect(survivors).toEqual([]);
  expect(processesInNetns(result.netns)).toEqual([]);
}

/** What the steps after the first media must have observed (see src/scenario.ts). */
function expectScenario(s: ScenarioResult, address: string): void {
  const restart = s.janusRestart as NonNullable<ScenarioResult['janusRestart']>;
  // 1. selectStream {video:false} → Janus configure: no frame decoded for ≥ 1.5 s while audio
  //    goes on; {video:true} → frames again.
  expect(s.videoOff?.ms).toBeGreaterThanOrEqual(1_500);
  expect(s.videoOff?.videoFrames).toBe(0);
  expect(s.videoOff?.audioPackets).toBeGreaterThan(0);
  expect(s.videoOn?.videoFrames).toBeGreaterThanOrEqual(10);
  // 2. requestoffer with the current sid renegotiates on the same subscriber (same sid, one
  //    more offer); the publisher's second offer with its sid updates it (update-sdp); media
  //    keeps flowing after each.
  expect(s.renegotiation?.sidAfter).toBe(s.renegotiation?.sidBefore);
  expect(s.renegotiation?.offersAfter).toBe((s.renegotiation?.offersBefore ?? NaN) + 1);
  expect(s.renegotiation?.media.videoFrames).toBeGreaterThanOrEqual(10);
  expect(s.renegotiation?.media.audioPackets).toBeGreaterThan(0);
  expect(s.publisherUpdate?.media.videoFrames).toBeGreaterThanOrEqual(10);
  // 3. The screen stream (a canvas, video only) is decoded by its own subscription.
  expect(s.screen?.videoFramesDecoded).toBeGreaterThanOrEqual(10);
  expect(s.screen?.audioPacketsReceived).toBe(0);
  expect(s.screen?.remoteCandidate).toContain(address);
  // 4. Janus SIGKILLed: new connections are no longer told about the MCU (welcome and hello),
  //    media stops, and the clients are told nothing (upstream sends nothing specific); once
  //    Janus is back on the same port the features return, the publisher's re-offer and the
  //    subscriber's requestoffer with its old sid (the server's subscribers have new handles,
  //    so new sids) bring camera and screen back.
  const MCU_FEATURES = ['mcu', 'simulcast', 'update-sdp'];
  for (const feature of MCU_FEATURES) {
    expect(restart.whileDown.welcome).not.toContain(feature);
    expect(restart.whileDown.hello).not.toContain(feature);
  }
  expect(restart.afterRestart.welcome).toEqual(expect.arrayContaining(MCU_FEATURES));
  expect(restart.afterRestart.hello).toEqual(expect.arrayContaining(MCU_FEATURES));
  expect(restart.stalled).toMatchObject({ videoFrames: 0, audioPackets: 0 });
  expect(restart.duringOutage).toEqual({ publisher: [], subscriber: [] });
  expect(restart.sids.video[1]).not.toBe(restart.sids.video[0]);
  expect(restart.sids.screen[1]).not.toBe(restart.sids.screen[0]);
  expect(restart.video.videoFrames).toBeGreaterThanOrEqual(10);
  expect(restart.video.audioPackets).toBeGreaterThan(0);
  expect(restart.screenMedia.videoFrames).toBeGreaterThanOrEqual(10);
}

describe('end-to-end media in headless Chromium (private network namespace)', () => {
  beforeAll(() => {
    if (!existsSync(CHROMIUM_PATH)) {
      throw new Error(`${CHROMIUM_PATH} is missing: install the Debian package chromium (tools/ci/test-all.sh does)`);
    }
  });

  it('the subscriber receives the publisher\'s video and audio through the signaling server and Janus; stream selection, renegotiation, screen share and a Janus restart keep it working', async () => {
    const outcome = await runInNetns('signaling');
    expectSuccess(outcome);
    const { result } = outcome;
    const failure = (what: string): string => `${what}\n--- scenario ---\n${JSON.stringify(result.scenario, null, 1)}\n--- runner stderr ---\n${outcome.stderr.slice(-6_000)}`;
    expect(result.stats?.videoFramesDecoded).toBeGreaterThan(0);
    expect(result.stats?.audioPacketsReceived).toBeGreaterThan(0);
    // Media flowed over the namespace's bridge address, never loopback or a host interface.
    expect(result.stats?.remoteCandidate).toContain(result.address);
    expect(result.processes.map((p) => p.comm)).toEqual(expect.arrayContaining(['janus', 'chromium']));
    // Offers, answers and candidates are processed in order per session (as upstream), so the
    // candidates a browser trickles right after its offer reach the publisher: no errors at all,
    // in any of the steps below either.
    expect(result.serverErrors).toEqual({ publisher: [], subscriber: [] });

    const s = result.scenario;
    if (s?.janusRestart === undefined) throw new Error(failure('scenario incomplete'));
    // A failed expectation below shows what the steps observed and the runner's log.
    try {
      expectScenario(s, result.address);
    } catch (err) {
      throw new Error(failure(err instanceof Error ? err.message : String(err)));
    }
    expectNothingLeft(outcome);
  }, RUN_TIMEOUT_MS + 20_000);

  // The call through a signaling proxy: signaling server (`[mcu] type = proxy`) → proxy → Janus,
  // once with our mcu-proxy and once with the Go proxy 0.4.1 of the Debian package.
  for (const [mode, name] of [['proxy', 'our mcu-proxy'], ['go-proxy', 'the Go proxy 0.4.1']] as const) {
    it(`the subscriber receives the publisher's video and audio through the signaling server, ${name} and Janus`, async () => {
      const outcome = await runInNetns(mode);
      expectSuccess(outcome);
      const { result } = outcome;
      expect(result.proxy).toBe(mode === 'proxy' ? 'ours' : 'go');
      expect(result.stats?.videoFramesDecoded).toBeGreaterThan(0);
      expect(result.stats?.audioPacketsReceived).toBeGreaterThan(0);
      expect(result.stats?.remoteCandidate).toContain(result.address);
      expect(result.serverErrors).toEqual({ publisher: [], subscriber: [] });
      expectNothingLeft(outcome);
    }, RUN_TIMEOUT_MS + 20_000);
  }

  // Publisher and subscriber on different proxies: the subscriber's page comes from another
  // address (another GeoIP country), so its subscription is placed on the second proxy, which
  // pulls the stream from the first as a remote stream (two Janus servers, RTP forwarded).
  it('the subscriber on another proxy receives the publisher\'s video and audio through a remote stream between two mcu-proxies', async () => {
    const outcome = await runInNetns('proxy-remote');
    expectSuccess(outcome);
    const { result } = outcome;
    expect(result.stats?.videoFramesDecoded).toBeGreaterThan(0);
    expect(result.stats?.audioPacketsReceived).toBeGreaterThan(0);
    const [first, second] = result.proxyUrls ?? [];
    expect(result.proxyStats).toEqual([
      expect.objectContaining({ url: first, connected: true, publishers: 1, clients: 1 }),
      expect.objectContaining({ url: second, connected: true, publishers: 0, clients: 1 }),
    ]);
    expect(result.processes.filter((p) => p.comm === 'janus')).toHaveLength(2);
    expect(result.serverErrors).toEqual({ publisher: [], subscriber: [] });
    expectNothingLeft(outcome);
  }, RUN_TIMEOUT_MS + 20_000);

  // The other interop direction: the Go signaling server 0.4.1 of the Debian package
  // (`[mcu] type = proxy`) in front of our mcu-proxy. The publisher shares a canvas as screen
  // (Debian's build refuses camera offers); the pages send hello without waiting for a welcome.
  it('the subscriber decodes the publisher\'s screen through the Go signaling server 0.4.1, our mcu-proxy and Janus', async () => {
    const outcome = await runInNetns('go-signaling');
    expectSuccess(outcome);
    const { result } = outcome;
    expect(result.proxy).toBe('ours');
    expect(result.stats?.videoFramesDecoded).toBeGreaterThanOrEqual(10);
    expect(result.stats?.audioPacketsReceived).toBe(0);
    expect(result.stats?.remoteCandidate).toContain(result.address);
    // Our proxy carried the call: one publisher and one subscriber asked for by the Go server.
    expect(result.proxyStats).toEqual(expect.objectContaining({ 'create-publisher': 1, 'create-subscriber': 1 }));
    expect(result.processes.map((p) => p.comm)).toEqual(expect.arrayContaining(['janus', 'chromium', 'nats-server']));
    expect(result.serverErrors).toEqual({ publisher: [], subscriber: [] });
    expectNothingLeft(outcome);
  }, RUN_TIMEOUT_MS + 20_000);

  // The same two pages talking to Janus' VideoRoom directly: checks the harness itself (namespace,
  // bridge address, Janus ICE settings, Chromium flags), so a failure of the test above that this
  // one does not share points at the signaling server.
  it('the harness delivers media between two pages through Janus directly', async () => {
    const outcome = await runInNetns('janus');
    expectSuccess(outcome);
    const { result } = outcome;
    expect(result.stats?.videoFramesDecoded).toBeGreaterThan(0);
    expect(result.stats?.audioPacketsReceived).toBeGreaterThan(0);
    expect(result.stats?.remoteCandidate).toContain(result.address);
    expectNothingLeft(outcome);
  }, RUN_TIMEOUT_MS + 20_000);
});
