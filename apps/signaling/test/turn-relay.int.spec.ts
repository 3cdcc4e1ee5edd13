import { execFile } from 'node:child_process';
import { startTurnServer, type ManagedProcess } from '@talk-signaling/testing';
import { startTestSetup, type TestSetup } from './test-server';

jest.setTimeout(60_000);

/** Runs coturn's test client: allocations on the TURN server, data relayed between two clients. */
function allocate(port: number, username: string, password: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile('turnutils_uclient', ['-u', username, '-w', password, '-p', String(port), '-y', '-c', '-n', '2', '127.0.0.1'], { timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

/** The credentials of `/turn/credentials` work on a real TURN server (coturn, REST API secret). */
describe('TURN credentials against coturn', () => {
  let turn: ManagedProcess;
  let setup: TestSetup;

  beforeAll(async () => {
    turn = await startTurnServer('shared-turn-secret');
    setup = await startTestSetup({
      extraConfig: ['[turn]', 'apikey = turn-api-key', 'secret = shared-turn-secret', `servers = ${turn.url}?transport=udp`].join('\n'),
    });
  });
  afterAll(async () => {
    await setup?.stop();
    await turn?.stop();
  });

  it('relays data for the credentials the server hands out, and refuses altered ones', async () => {
    const res = await fetch(`${setup.baseUrl}turn/credentials?service=turn&api=turn-api-key&username=alice`);
    const body = (await res.json()) as { username: string; password: string; uris: string[] };
    expect(body.uris).toEqual([`${turn.url}?transport=udp`]);
    const port = Number(new URL(turn.url.replace('turn:', 'turn://')).port);

    const ok = await allocate(port, body.username, body.password);
    expect(ok.output).toContain('Total lost packets 0');
    expect(ok.code).toBe(0);

    const bad = await allocate(port, body.username.replace(':alice', ':mallory'), body.password);
    expect(bad.code).not.toBe(0);
    expect(bad.output).toContain('Cannot complete Allocation');
  });
});
