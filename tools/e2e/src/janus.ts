import { startJanus } from '@talk-signaling/testing';
import { NETNS_ADDRESS, NETNS_BRIDGE } from './netns';

/** Janus' RTP ports; below the ephemeral range freePort() hands out. */
const RTP_PORT_RANGE = '20000-20999';

export interface E2eJanus {
  /** Kept across `restart()` (same WebSocket port). */
  url: string;
  /** The running process' pid (changes with `restart()`). */
  readonly pid: number;
  /** Output tail (stdout+stderr) of the running process, for failure reports. */
  output(): string;
  /** SIGKILL without waiting (Janus dies mid-call); `restart()` brings it back. */
  kill(): void;
  /** Waits for the old process to be gone, starts a new one on the same port and waits until it is ready. */
  restart(): Promise<void>;
  /** SIGKILL and wait for the exit; removes the config folder. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Janus for the media test: the harness' `startJanus` plus the ICE settings the media path
 * needs. Candidates are gathered on the namespace's bridge only (`ice_enforce_list`), so the one
 * host candidate is the bridge's private address (libnice never offers loopback); `interface`
 * makes Janus advertise that address instead of falling back to 127.0.0.1.
 */
export async function startE2eJanus(): Promise<E2eJanus> {
  const janus = await startJanus({ rtpPortRange: RTP_PORT_RANGE, interface: NETNS_ADDRESS, iceEnforceList: NETNS_BRIDGE });
  // Output of the processes before a restart, so a failure report still shows why one died.
  let earlier = '';
  return {
    url: janus.url,
    get pid() {
      return janus.pid as number;
    },
    output: () => earlier + janus.output,
    kill: () => janus.kill('SIGKILL'),
    restart: async () => {
      earlier = `${earlier}${janus.output.slice(-2_000)}\n--- janus restarted ---\n`;
      await janus.restart();
    },
    stop: () => janus.stop(),
  };
}
