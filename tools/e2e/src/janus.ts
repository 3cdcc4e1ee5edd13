import { startJanus } from '@talk-signaling/testing';
import { NETNS_ADDRESS, NETNS_BRIDGE } from './netns';

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

/**
 * Janus for the media test: the harness' `startJanus` plus the ICE settings the media path
 * needs. Candidates are gathered on the namespace's bridge only (`ice_enforce_list`), so the one
 * host candidate is the bridge's private address (libnice never offers loopback); `interface`
 * makes Janus advertise that address instead of falling back to 127.0.0.1.
 */
export async function startE2eJanus(): Promise<E2eJanus> {
  const janus = await startJanus({ rtpPortRange: RTP_PORT_RANGE, interface: NETNS_ADDRESS, iceEnforceList: NETNS_BRIDGE });
  return { url: janus.url, pid: janus.pid as number, output: () => janus.output, stop: () => janus.stop() };
}
