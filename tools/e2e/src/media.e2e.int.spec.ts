// End-to-end media: Debian's Chromium publishes its fake camera and microphone through our
// signaling server's MCU flow into Janus, a second page subscribes with `requestoffer`, and the
// subscriber's getStats() must show decoded video frames and received audio packets. Everything
// runs in a private network namespace (`unshare -n`) created per run by
// src/run-in-netns.mjs; the runner prints one JSON line (E2eResult) and tears everything down.
// Needs root, the Debian packages chromium, janus and iproute2 (the test command installs them)
// and the builds of `e2e` and `signaling` (the test target depends on both).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { isAlive, netnsOf, processesInNetns, type ProcessInfo } from './netns';
import { CHROMIUM_PATH, type E2eResult } from './result';

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

function runInNetns(mode: 'signaling' | 'janus'): Promise<RunOutcome> {
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

describe('end-to-end media in headless Chromium (private network namespace)', () => {
  beforeAll(() => {
    if (!existsSync(CHROMIUM_PATH)) {
      throw new Error(`${CHROMIUM_PATH} is missing: install the Debian package chromium (tools/ci/test-all.sh does)`);
    }
  });

  it('the subscriber receives the publisher\'s video and audio through the signaling server and Janus', async () => {
    const outcome = await runInNetns('signaling');
    expectSuccess(outcome);
    const { result } = outcome;
    expect(result.stats?.videoFramesDecoded).toBeGreaterThan(0);
    expect(result.stats?.audioPacketsReceived).toBeGreaterThan(0);
    // Media flowed over the namespace's bridge address, never loopback or a host interface.
    expect(result.stats?.remoteCandidate).toContain(result.address);
    expect(result.processes.map((p) => p.comm)).toEqual(expect.arrayContaining(['janus', 'chromium']));
    // Offers, answers and candidates are processed in order per session (as upstream), so the
    // candidates a browser trickles right after its offer reach the publisher: no errors at all.
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
