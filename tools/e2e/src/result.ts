import type { ProcessInfo } from './netns';
import type { InboundStats } from './page/types';
import type { ScenarioResult } from './scenario';

/** Debian's Chromium (package `chromium`). */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Headless in a closed network, fake camera/microphone granted without a prompt. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
];

/** The one JSON line the runner prints on stdout. */
export interface E2eResult {
  ok: boolean;
  mode: 'signaling' | 'janus' | 'proxy' | 'go-proxy' | 'proxy-remote' | 'go-signaling';
  error?: string;
  /** The subscriber's last getStats() reading. */
  stats?: InboundStats;
  /** Mode `signaling`: what the steps after the first media observed (as far as they got). */
  scenario?: ScenarioResult;
  /** Proxy modes: which proxy carried the call. */
  proxy?: 'ours' | 'go';
  /** Proxy modes: the proxies' base URLs and the signaling server's stats of them after the media. */
  proxyUrls?: string[];
  proxyStats?: unknown;
  /** `error` messages the signaling server sent each page during the MCU flow (should be none). */
  serverErrors: Record<string, string[]>;
  /** The namespace's bridge address (Janus' host candidate). */
  address: string;
  /** `net:[<inode>]` of the namespace the run used. */
  netns: string;
  runnerPid: number;
  /** ms since the runner started at which each step was done (janus, nextcloud, signaling, browser, published, media, teardown). */
  timings: Record<string, number>;
  /** Every process seen in the namespace during the run (Janus, signaling server, Chromium and its helpers). */
  processes: ProcessInfo[];
  /** Processes still alive after the orderly teardown (killed then); should be empty. */
  leftover: ProcessInfo[];
}
