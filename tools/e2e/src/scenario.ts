// The steps after the first media (signaling mode), driven through the pages' `window.e2eApi`:
// stream selection, renegotiation (subscriber and publisher side), screen share, and Janus killed
// and restarted mid-call. Every wait is bounded and fails with a message saying what was awaited
// and what was seen last.
import WebSocket from 'ws';
import type { Page } from 'playwright-core';
import type { E2eJanus } from './janus';
import type { E2eApi, E2eState, InboundStats, ReceivedMessage, StreamType } from './page/types';

/** Counter increase between two readings of one subscription. */
export interface Delta {
  ms: number;
  videoFrames: number;
  videoPackets: number;
  audioPackets: number;
}

/** What a fresh connection is told (welcome, then hello `server.features`). */
export interface FeatureProbe {
  welcome: string[];
  hello: string[];
}

export interface ScenarioResult {
  /** `selectStream {video:false}`: the longest stretch without a decoded frame, audio meanwhile. */
  videoOff?: Delta;
  /** `selectStream {video:true}` again: frames decoded afterwards. */
  videoOn?: Delta;
  /** Subscriber `requestoffer` with its current sid: sid kept, one more offer, media afterwards. */
  renegotiation?: { sidBefore: string; sidAfter: string; offersBefore: number; offersAfter: number; media: Delta };
  /** Publisher offer again with the same sid (`update-sdp`): media afterwards. */
  publisherUpdate?: { media: Delta };
  /** The screen subscription's counters once frames were decoded. */
  screen?: InboundStats;
  janusRestart?: {
    /** What a new connection was told while Janus was down / once it was back. */
    whileDown: FeatureProbe;
    afterRestart: FeatureProbe;
    /** Subscriber counters over ≥ 1 s while Janus was dead (media must have stopped). */
    stalled: Delta;
    /** Messages the two pages got from the server from the kill until both re-offered. */
    duringOutage: Record<string, ReceivedMessage[]>;
    /** Subscriber sids before the kill and of the offers after the restart. */
    sids: { video: [string, string]; screen: [string, string] };
    /** Media on both subscriptions after the publisher re-offered and the subscriber re-requested. */
    video: Delta;
    screenMedia: Delta;
    /** ms from the kill: mcu feature gone, Janus ready again, mcu feature back, media again. */
    timings: Record<string, number>;
  };
}

export interface ScenarioContext {
  publisher: Page;
  subscriber: Page;
  janus: E2eJanus;
  /** `ws://…/spreed` of the signaling server. */
  wsUrl: string;
  /** Hello v1 auth of a user nobody else uses (the feature probe). */
  probeAuth: { url: string; params: { userid: string; ticket: string } };
  result: ScenarioResult;
  /** Progress line on stderr. */
  progress(text: string): void;
  /** Records timing `name` (ms since the runner started). */
  mark(name: string): void;
  /** Re-reads both pages' `window.e2e` (for the failure report and the leak check). */
  refreshPages(): Promise<Record<string, E2eState | undefined>>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Bounds a promise; `what` names it in the error. */
async function bounded<T>(what: string, ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Calls `window.e2eApi[method](...args)` in `page`, bounded. */
async function call<K extends keyof E2eApi>(page: Page, what: string, method: K, args: Parameters<E2eApi[K]>, ms = 15_000): Promise<Awaited<ReturnType<E2eApi[K]>>> {
  const evaluation = page.evaluate(
    ([m, a]) => {
      const api = window.e2eApi;
      if (api === undefined) throw new Error('window.e2eApi is not set (signaling mode only)');
      return (api[m as keyof E2eApi] as (...x: unknown[]) => unknown)(...(a as unknown[]));
    },
    [method, args] as const,
  );
  return (await bounded(what, ms, evaluation)) as Awaited<ReturnType<E2eApi[K]>>;
}

function delta(from: InboundStats, to: InboundStats, ms: number): Delta {
  return {
    ms,
    videoFrames: to.videoFramesDecoded - from.videoFramesDecoded,
    videoPackets: to.videoPacketsReceived - from.videoPacketsReceived,
    audioPackets: to.audioPacketsReceived - from.audioPacketsReceived,
  };
}

/** Increase of a counter between two polls; a counter that went down was reset (new SSRC after a new offer). */
const increase = (from: number, to: number): number => (to >= from ? to - from : to);

/**
 * Polls the subscriber's counters for `streamType` until `done(increase since the first reading)`;
 * fails after `ms` with the last increase. Counters are summed poll by poll, so the inbound-rtp
 * entries replaced after a Janus restart (new SSRCs, counters from 0) do not hide new media.
 */
async function waitForCounters(ctx: ScenarioContext, what: string, streamType: StreamType, ms: number, done: (d: Delta) => boolean): Promise<Delta> {
  const start = Date.now();
  let last = await call(ctx.subscriber, `${what}: stats`, 'stats', [streamType]);
  const d: Delta = { ms: 0, videoFrames: 0, videoPackets: 0, audioPackets: 0 };
  for (;;) {
    await sleep(100);
    const now = await call(ctx.subscriber, `${what}: stats`, 'stats', [streamType]);
    d.ms = Date.now() - start;
    d.videoFrames += increase(last.videoFramesDecoded, now.videoFramesDecoded);
    d.videoPackets += increase(last.videoPacketsReceived, now.videoPacketsReceived);
    d.audioPackets += increase(last.audioPacketsReceived, now.audioPacketsReceived);
    last = now;
    if (done(d)) return d;
    if (Date.now() - start > ms) throw new Error(`${what}: not seen within ${ms} ms (last ${JSON.stringify(d)})`);
  }
}

/** Enough decoded frames (and, for the camera stream, audio packets) to call it flowing. */
const FLOWING_FRAMES = 10;
const flowing = (withAudio: boolean) => (d: Delta) => d.videoFrames >= FLOWING_FRAMES && (!withAudio || d.audioPackets >= 10);

/** Connects to the signaling server and reports the features of welcome and hello. */
export function probeFeatures(ctx: Pick<ScenarioContext, 'wsUrl' | 'probeAuth'>, timeoutMs = 3_000): Promise<FeatureProbe> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(ctx.wsUrl);
    let welcome: string[] | undefined;
    const finish = (err: Error | undefined, probe?: FeatureProbe): void => {
      clearTimeout(timer);
      ws.removeAllListeners();
      ws.on('error', () => undefined);
      ws.terminate();
      if (err) reject(err);
      else resolve(probe as FeatureProbe);
    };
    const timer = setTimeout(() => finish(new Error(`feature probe: no hello reply within ${timeoutMs} ms`)), timeoutMs);
    ws.on('error', (err) => finish(new Error(`feature probe: ${err.message}`)));
    ws.on('message', (raw) => {
      const msg = JSON.parse(raw.toString()) as { type?: string; welcome?: { features?: string[] }; hello?: { server?: { features?: string[] } }; error?: { code?: string } };
      if (msg.type === 'welcome') {
        welcome = msg.welcome?.features ?? [];
        ws.send(JSON.stringify({ id: 'probe', type: 'hello', hello: { version: '1.0', auth: ctx.probeAuth } }));
      } else if (msg.type === 'hello') {
        finish(undefined, { welcome: welcome ?? [], hello: msg.hello?.server?.features ?? [] });
      } else if (msg.type === 'error') {
        finish(new Error(`feature probe: hello failed: ${msg.error?.code}`));
      }
    });
  });
}

/** Probes until `mcu` is (or is not) announced to new connections. */
async function waitForMcuFeature(ctx: ScenarioContext, present: boolean, ms: number): Promise<FeatureProbe> {
  const deadline = Date.now() + ms;
  let last: FeatureProbe | string = 'no probe yet';
  for (;;) {
    try {
      last = await probeFeatures(ctx);
      if (last.welcome.includes('mcu') === present && last.hello.includes('mcu') === present) return last;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`feature mcu still ${present ? 'absent' : 'announced'} after ${ms} ms (last probe: ${JSON.stringify(last)})`);
    await sleep(100);
  }
}

/** Step 1: `selectStream {video:false}` stops the video, audio goes on; `{video:true}` resumes it. */
async function streamSelection(ctx: ScenarioContext): Promise<void> {
  await call(ctx.subscriber, 'selectStream video:false', 'selectStream', ['video', { video: false }]);
  // Frames in flight may still be decoded right after the request: wait for a stretch of 1.5 s
  // without a single decoded frame while audio packets keep arriving.
  const STRETCH_MS = 1_500;
  const start = Date.now();
  let base = await call(ctx.subscriber, 'video off: stats', 'stats', ['video']);
  let baseAt = Date.now();
  for (;;) {
    await sleep(100);
    const now = await call(ctx.subscriber, 'video off: stats', 'stats', ['video']);
    const d = delta(base, now, Date.now() - baseAt);
    if (d.videoFrames > 0) {
      base = now;
      baseAt = Date.now();
    } else if (d.ms >= STRETCH_MS) {
      if (d.audioPackets < 20) throw new Error(`video off: audio stopped too (${JSON.stringify(d)})`);
      ctx.result.videoOff = d;
      break;
    }
    if (Date.now() - start > 8_000) throw new Error(`video off: frames still decoded 8 s after selectStream {video:false} (last ${JSON.stringify(d)})`);
  }
  ctx.mark('video-off');
  await call(ctx.subscriber, 'selectStream video:true', 'selectStream', ['video', { video: true }]);
  ctx.result.videoOn = await waitForCounters(ctx, 'video on again after selectStream {video:true}', 'video', 8_000, flowing(true));
  ctx.mark('video-on');
}

/** Step 2: renegotiation from both ends; media keeps flowing. */
async function renegotiation(ctx: ScenarioContext): Promise<void> {
  const before = await call(ctx.subscriber, 'offers', 'offers', ['video']);
  const sidAfter = await call(ctx.subscriber, 'subscriber requestoffer with its sid', 'requestOfferAgain', ['video']);
  const after = await call(ctx.subscriber, 'offers', 'offers', ['video']);
  const media = await waitForCounters(ctx, 'media after the subscriber renegotiated', 'video', 8_000, flowing(true));
  ctx.result.renegotiation = { sidBefore: before.sid, sidAfter, offersBefore: before.offers, offersAfter: after.offers, media };
  ctx.mark('renegotiated');
  await call(ctx.publisher, 'publisher offer again with the same sid', 'reoffer', ['video', false]);
  ctx.result.publisherUpdate = { media: await waitForCounters(ctx, 'media after the publisher re-offered', 'video', 8_000, flowing(true)) };
  ctx.mark('update-sdp');
}

/** Step 3: a canvas published as `roomType: "screen"`, subscribed and decoded. */
async function screenShare(ctx: ScenarioContext): Promise<void> {
  await call(ctx.publisher, 'publish the screen', 'publishScreen', []);
  await call(ctx.subscriber, 'requestoffer for the screen', 'subscribe', ['screen']);
  await waitForCounters(ctx, 'screen frames decoded', 'screen', 10_000, flowing(false));
  ctx.result.screen = await call(ctx.subscriber, 'screen stats', 'stats', ['screen']);
  ctx.mark('screen');
}

/** Step 4: Janus SIGKILLed mid-call and restarted on the same port; clients re-offer / re-request. */
async function janusRestart(ctx: ScenarioContext): Promise<void> {
  const timings: Record<string, number> = {};
  const sidsBefore = {
    video: (await call(ctx.subscriber, 'offers', 'offers', ['video'])).sid,
    screen: (await call(ctx.subscriber, 'offers', 'offers', ['screen'])).sid,
  };
  const killedAt = Date.now();
  const at = (name: string): void => {
    timings[name] = Date.now() - killedAt;
    ctx.progress(`janus restart: ${name} (+${timings[name]} ms)`);
  };
  ctx.janus.kill();
  const whileDown = await waitForMcuFeature(ctx, false, 5_000);
  at('mcu-gone');
  // Media stops with Janus: no frame for a second.
  const r1 = await call(ctx.subscriber, 'stats while janus is down', 'stats', ['video']);
  const r1At = Date.now();
  await sleep(1_000);
  const stalled = delta(r1, await call(ctx.subscriber, 'stats while janus is down', 'stats', ['video']), Date.now() - r1At);
  if (stalled.videoFrames !== 0 || stalled.audioPackets !== 0) throw new Error(`media still flowing with janus killed: ${JSON.stringify(stalled)}`);
  await bounded('janus restart', 15_000, ctx.janus.restart());
  at('janus-ready');
  const afterRestart = await waitForMcuFeature(ctx, true, 10_000);
  at('mcu-back');
  // What the pages were told meanwhile (fact sheet: nothing specific).
  const pages = await ctx.refreshPages();
  const duringOutage = Object.fromEntries(
    Object.entries(pages).map(([name, state]) => [name, (state?.received ?? []).filter((m) => m.at >= killedAt)]),
  );
  // The publisher re-offers (what a client does once ICE failed), then the subscriber asks again
  // with the sid it had: the server re-created its subscriber on a new handle and joins afresh.
  await call(ctx.publisher, 'publisher re-offers the camera after the janus restart', 'reoffer', ['video', true]);
  await call(ctx.publisher, 'publisher re-offers the screen after the janus restart', 'reoffer', ['screen', true]);
  at('republished');
  const videoSid = await call(ctx.subscriber, 'subscriber re-requests the camera after the janus restart', 'requestOfferAgain', ['video']);
  const screenSid = await call(ctx.subscriber, 'subscriber re-requests the screen after the janus restart', 'requestOfferAgain', ['screen']);
  at('resubscribed');
  const video = await waitForCounters(ctx, 'camera media after the janus restart', 'video', 10_000, flowing(true));
  const screenMedia = await waitForCounters(ctx, 'screen media after the janus restart', 'screen', 10_000, flowing(false));
  at('media-again');
  ctx.result.janusRestart = {
    whileDown,
    afterRestart,
    stalled,
    duringOutage,
    sids: { video: [sidsBefore.video, videoSid], screen: [sidsBefore.screen, screenSid] },
    video,
    screenMedia,
    timings,
  };
  ctx.mark('janus-restart');
}

/** Runs the steps in order; the first failure ends the run. */
export async function runScenario(ctx: ScenarioContext): Promise<void> {
  await streamSelection(ctx);
  await renegotiation(ctx);
  await screenShare(ctx);
  await janusRestart(ctx);
}
