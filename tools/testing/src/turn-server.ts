import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './free-port';
import { ManagedServer, Spawned, type ManagedProcess } from './managed-process';

/** Start-up deadline for coturn (ms). */
const TURN_READY_TIMEOUT_MS = 10_000;

/**
 * Starts coturn's `turnserver` on a loopback UDP/TCP port with the TURN REST API scheme
 * (`use-auth-secret`, `static-auth-secret = secret`): it accepts exactly the time-limited
 * credentials a signaling server hands out from `/turn/credentials`. No TLS, relays on loopback.
 */
export async function startTurnServer(secret: string): Promise<ManagedProcess> {
  const tempDir = await mkdtemp(path.join(tmpdir(), 'talk-turn-'));
  const port = await freePort();
  const relayBase = 40_000 + Math.floor(Math.random() * 200) * 100;
  const launch = async (): Promise<Spawned> => {
    const child = new Spawned('turnserver', 'turnserver', [
      '-n', '--no-cli', '--no-tls', '--no-dtls', '--log-file=stdout', '--simple-log',
      '--listening-ip=127.0.0.1', '--relay-ip=127.0.0.1', `--listening-port=${port}`,
      `--min-port=${relayBase}`, `--max-port=${relayBase + 99}`,
      '--use-auth-secret', `--static-auth-secret=${secret}`, '--realm=talk-signaling.test',
      '--allow-loopback-peers', `--pidfile=${path.join(tempDir, 'turnserver.pid')}`,
    ]);
    await child.ready(() => /listener opened on|Total General servers/i.test(child.output), TURN_READY_TIMEOUT_MS);
    return child;
  };
  const first = await launch();
  return new ManagedServer(`turn:127.0.0.1:${port}`, port, first, { launch, tempDir });
}
