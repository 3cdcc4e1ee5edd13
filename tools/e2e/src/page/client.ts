// Browser side of the end-to-end media test (no framework). The runner opens
// `index.html?role=publisher|subscriber&...` and watches `window.e2e`:
//
// * mode `signaling` (the test): connects to the signaling server's `/spreed`, says hello (v1
//   ticket), joins the room and runs the MCU flow of the upstream protocol — the publisher sends
//   its `offer` to its own session and gets the `answer` back, the subscriber sends
//   `requestoffer` to the publisher and answers the MCU's `offer`; candidates both ways.
// * mode `janus` (diagnostics): the same two roles talk to Janus' VideoRoom directly, to tell
//   network/ICE problems apart from signaling-server problems.
//
// The subscriber polls `getStats()` until video frames were decoded and audio packets arrived.
import { inboundCounters, pollInboundStats } from './stats';
import type { E2eApi, E2eState, InboundStats, StreamType } from './types';

declare global {
  interface Window {
    e2e: E2eState;
    /** Signaling mode: the steps the runner drives after the first media. */
    e2eApi?: E2eApi;
  }
}

const params = new URLSearchParams(location.search);
const role = params.get('role') === 'subscriber' ? 'subscriber' : 'publisher';
/** Signaling mode: the stream published and subscribed on load (`screen`: a canvas, video only). */
const firstStream: StreamType = params.get('stream') === 'screen' ? 'screen' : 'video';
const state: E2eState = { role, phase: 'starting', log: [], startedAt: Date.now() };
window.e2e = state;

function log(text: string): void {
  state.log.push(`${Date.now() - state.startedAt}ms ${text}`);
  if (state.log.length > 200) state.log.shift();
}

function fail(err: unknown): void {
  state.error = err instanceof Error ? err.message : String(err);
  state.phase = 'failed';
  log(`failed: ${state.error}`);
}

function required(name: string): string {
  const value = params.get(name);
  if (value === null || value === '') throw new Error(`missing query parameter ${name}`);
  return value;
}

/** A random stream id (`sid`), as Talk's web client makes them. */
function newSid(): string {
  return String(Math.floor(Math.random() * 1e15));
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- signaling JSON is free-form
type Json = any;

/** A JSON WebSocket with a message queue that can be awaited with a predicate. */
class Channel {
  readonly #ws: WebSocket;
  readonly #waiters: { match: (m: Json) => boolean; resolve: (m: Json) => void }[] = [];
  #listener: ((m: Json) => void) | undefined;
  #closed: string | undefined;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.addEventListener('message', (ev) => {
      const msg = JSON.parse(String(ev.data)) as Json;
      const i = this.#waiters.findIndex((w) => w.match(msg));
      if (i >= 0) {
        const [w] = this.#waiters.splice(i, 1);
        w?.resolve(msg);
      } else {
        this.#listener?.(msg);
      }
    });
    ws.addEventListener('close', (ev) => {
      this.#closed = `closed (${ev.code} ${ev.reason})`;
      log(`websocket ${this.#closed}`);
      if (state.phase !== 'done') fail(new Error(`websocket ${this.#closed}`));
    });
  }

  static open(url: string, protocol?: string): Promise<Channel> {
    return new Promise((resolve, reject) => {
      const ws = protocol === undefined ? new WebSocket(url) : new WebSocket(url, protocol);
      ws.addEventListener('open', () => resolve(new Channel(ws)), { once: true });
      ws.addEventListener('error', () => reject(new Error(`websocket ${url} failed`)), { once: true });
    });
  }

  send(msg: Json): void {
    this.#ws.send(JSON.stringify(msg));
  }

  /** Messages no waiter took. */
  onOther(listener: (m: Json) => void): void {
    this.#listener = listener;
  }

  next(match: (m: Json) => boolean, what: string, timeoutMs = 15_000): Promise<Json> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      this.#waiters.push({
        match,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  /** Sends `msg` and waits for a reply with its `id`; an `error` reply rejects. */
  async request(msg: Json, what: string): Promise<Json> {
    const id = msg.id as string;
    this.send(msg);
    const reply = await this.next((m) => m.id === id, what);
    if (reply.type === 'error') throw new Error(`${what}: ${reply.error?.code} ${reply.error?.message}`);
    return reply;
  }

  close(): void {
    this.#ws.close();
  }
}

function newPeerConnection(label = 'video'): RTCPeerConnection {
  const pc = new RTCPeerConnection({ iceServers: [] });
  pc.addEventListener('iceconnectionstatechange', () => log(`${label}: ice ${pc.iceConnectionState}`));
  pc.addEventListener('connectionstatechange', () => {
    log(`${label}: connection ${pc.connectionState}`);
    if (pc.connectionState === 'connected') state.connected = true;
  });
  return pc;
}

/**
 * Until a video frame was decoded and audio packets arrived; a screen stream (no audio) waits for
 * 10 frames instead, so a stream that stalls after its first frame does not pass.
 */
async function waitForMedia(pc: RTCPeerConnection, streamType: StreamType = 'video'): Promise<void> {
  state.phase = 'receiving';
  const until = streamType === 'video' ? { withAudio: true, minFrames: 1 } : { withAudio: false, minFrames: 10 };
  const stats: InboundStats = await pollInboundStats(pc, until, (s) => {
    state.stats = s;
  });
  state.stats = stats;
  state.phase = 'done';
  state.doneAt = Date.now();
  log(`media: ${JSON.stringify(stats)}`);
}

// ---------------------------------------------------------------------------------------------
// Through the signaling server (upstream MCU flow, fact sheet 1.8/1.9).

/** An animated canvas as screen-share source (headless Chromium has no real screen to capture). */
function canvasScreenStream(): MediaStream {
  const canvas = document.createElement('canvas');
  canvas.width = 640;
  canvas.height = 360;
  document.body.append(canvas);
  const g = canvas.getContext('2d') as CanvasRenderingContext2D;
  let n = 0;
  const draw = (): void => {
    n += 1;
    g.fillStyle = `hsl(${(n * 7) % 360} 60% 40%)`;
    g.fillRect(0, 0, canvas.width, canvas.height);
    g.fillStyle = '#fff';
    g.font = '48px sans-serif';
    g.fillText(`screen ${n}`, 40, 120 + (n % 100));
  };
  draw();
  // A timer, not requestAnimationFrame: a page that is not in front gets no animation frames.
  setInterval(draw, 50);
  return canvas.captureStream(20);
}

async function runSignaling(): Promise<void> {
  const url = required('ws');
  const ch = await Channel.open(url);
  // Hello right away, as Talk's clients do: the Go server 0.4.1 sends no `welcome` (newer servers
  // do, before anything else; it is only logged here).
  ch.onOther((m) => {
    if (m.type === 'welcome') log(`welcome ${JSON.stringify(m.welcome?.features ?? [])}`);
  });

  let seq = 0;
  const nextId = (): string => `${role}-${++seq}`;
  const hello = await ch.request(
    { id: nextId(), type: 'hello', hello: { version: '1.0', auth: { url: required('backend'), params: { userid: required('userid'), ticket: required('ticket') } } } },
    'hello',
  );
  const self = hello.hello.sessionid as string;
  state.sessionId = self;
  log(`hello: session ${self} features ${JSON.stringify(hello.hello.server?.features ?? [])}`);

  // Remember who is in the room: join events may arrive before the room reply is read.
  const others: string[] = [];
  const othersChanged: (() => void)[] = [];
  const onEvent = (m: Json): void => {
    if (m.type === 'event' && m.event?.target === 'room' && m.event.type === 'join') {
      for (const entry of m.event.join as Json[]) {
        if (entry.sessionid !== self && !others.includes(entry.sessionid)) others.push(entry.sessionid);
      }
      othersChanged.splice(0).forEach((f) => f());
    }
  };
  const mcuMessages: Json[] = [];
  const mcuChanged: (() => void)[] = [];
  const received = (state.received = [] as NonNullable<E2eState['received']>);
  ch.onOther((m) => {
    const detail = m.message?.data?.type ?? m.event?.type ?? m.error?.code;
    received.push({ at: Date.now(), type: String(m.type), ...(typeof detail === 'string' ? { detail } : {}) });
    if (received.length > 1_000) received.shift();
    onEvent(m);
    if (m.type === 'message') {
      mcuMessages.push(m.message);
      mcuChanged.splice(0).forEach((f) => f());
    } else if (m.type === 'error') {
      // Recorded, not fatal (a real client logs them and carries on); the test asserts on them.
      const text = `${m.error?.code}: ${m.error?.message}`;
      (state.serverErrors ??= []).push(text);
      log(`server error ${text}`);
    }
  });

  await ch.request({ id: nextId(), type: 'room', room: { roomid: required('room'), sessionid: `${required('userid')}-nc-session` } }, 'room join');
  state.phase = 'joined';
  log('joined room');

  const send = (recipient: string, data: Json): void => {
    ch.send({ type: 'message', message: { recipient: { type: 'session', sessionid: recipient }, data } });
  };
  /** Handles every MCU message (arrived or arriving) with `handler`. */
  const forEachMcuMessage = (handler: (msg: Json) => void): void => {
    const drain = (): void => {
      for (const msg of mcuMessages.splice(0)) handler(msg);
      mcuChanged.push(drain);
    };
    drain();
  };
  const streamTypeOf = (data: Json): StreamType => (data?.roomType === 'screen' ? 'screen' : 'video');
  const notImplemented = (what: string) => (): never => {
    throw new Error(`${what}: not available on the ${role} page`);
  };

  if (role === 'publisher') {
    /** One published stream: its PeerConnection, sid and pending answer. */
    interface Published {
      pc: RTCPeerConnection;
      sid: string;
      answered?: () => void;
    }
    const published = new Map<StreamType, Published>();
    forEachMcuMessage((msg) => {
      const data = msg.data as Json;
      const stream = published.get(streamTypeOf(data));
      if (stream === undefined) return;
      if (data?.type === 'answer') {
        log(`answer from the MCU (${streamTypeOf(data)})`);
        const done = stream.answered;
        stream.answered = undefined;
        stream.pc.setRemoteDescription(data.payload).then(done, fail);
      } else if (data?.type === 'candidate' && data.payload?.candidate) {
        stream.pc.addIceCandidate(data.payload.candidate).catch((err: unknown) => log(`addIceCandidate: ${String(err)}`));
      }
    });
    const offer = async (streamType: StreamType, stream: Published, options?: RTCOfferOptions): Promise<void> => {
      const answer = new Promise<void>((resolve) => (stream.answered = resolve));
      const description = await stream.pc.createOffer(options);
      await stream.pc.setLocalDescription(description);
      send(self, { type: 'offer', roomType: streamType, sid: stream.sid, payload: { type: 'offer', sdp: description.sdp } });
      log(`offer sent (${streamType}${options?.iceRestart ? ', ICE restart' : ''})`);
      await answer;
    };
    const publish = async (streamType: StreamType, media: MediaStream): Promise<void> => {
      const pc = newPeerConnection(streamType);
      for (const track of media.getTracks()) pc.addTrack(track, media);
      const stream: Published = { pc, sid: newSid() };
      published.set(streamType, stream);
      pc.addEventListener('icecandidate', (ev) => {
        if (ev.candidate === null || ev.candidate.candidate === '') return;
        const { candidate, sdpMid, sdpMLineIndex } = ev.candidate;
        send(self, { type: 'candidate', roomType: streamType, sid: stream.sid, payload: { candidate: { candidate, sdpMid, sdpMLineIndex } } });
      });
      await offer(streamType, stream);
    };
    window.e2eApi = {
      publishScreen: () => publish('screen', canvasScreenStream()),
      reoffer: async (streamType, iceRestart) => {
        const stream = published.get(streamType);
        if (stream === undefined) throw new Error(`no ${streamType} stream published`);
        await offer(streamType, stream, { iceRestart });
      },
      subscribe: notImplemented('subscribe'),
      requestOfferAgain: notImplemented('requestOfferAgain'),
      selectStream: notImplemented('selectStream'),
      stats: notImplemented('stats'),
      offers: notImplemented('offers'),
    };
    if (firstStream === 'screen') await publish('screen', canvasScreenStream());
    else await publish('video', await navigator.mediaDevices.getUserMedia({ audio: true, video: true }));
    state.phase = 'publishing';
    return;
  }

  // Subscriber: the publisher is whoever else is in the room.
  while (others.length === 0) await new Promise<void>((resolve) => othersChanged.push(resolve));
  const publisher = others[0] as string;

  /** One subscription (per stream type of the publisher). */
  interface Subscription {
    pc: RTCPeerConnection;
    sid: string;
    offers: number;
    answers: number;
    pendingCandidates: Json[];
    answerWaiters: { after: number; resolve: () => void }[];
  }
  const subscriptions = new Map<StreamType, Subscription>();
  const subscription = (streamType: StreamType): Subscription => {
    const sub = subscriptions.get(streamType);
    if (sub === undefined) throw new Error(`not subscribed to ${streamType}`);
    return sub;
  };
  forEachMcuMessage((msg) => {
    const data = msg.data as Json;
    const streamType = streamTypeOf(data);
    const sub = subscriptions.get(streamType);
    if (sub === undefined) return;
    if (data?.type === 'offer') {
      sub.sid = data.sid ?? '';
      sub.offers += 1;
      log(`offer #${sub.offers} from the MCU (${streamType}, sid ${sub.sid})`);
      void (async () => {
        await sub.pc.setRemoteDescription(data.payload);
        for (const c of sub.pendingCandidates.splice(0)) await sub.pc.addIceCandidate(c).catch(() => undefined);
        const answer = await sub.pc.createAnswer();
        await sub.pc.setLocalDescription(answer);
        send(publisher, { type: 'answer', roomType: streamType, sid: sub.sid, payload: { type: 'answer', sdp: answer.sdp } });
        sub.answers += 1;
        log(`answer #${sub.answers} sent (${streamType})`);
        for (const w of sub.answerWaiters.filter((x) => sub.answers > x.after)) w.resolve();
        sub.answerWaiters = sub.answerWaiters.filter((x) => sub.answers <= x.after);
      })().catch(fail);
    } else if (data?.type === 'candidate' && data.payload?.candidate) {
      // addIceCandidate is chained after a pending setRemoteDescription by the browser.
      if (sub.pc.remoteDescription === null) sub.pendingCandidates.push(data.payload.candidate);
      else sub.pc.addIceCandidate(data.payload.candidate).catch((err: unknown) => log(`addIceCandidate: ${String(err)}`));
    }
  });
  /** Sends `requestoffer` (with `sid` when given) and waits for the next answer to be sent. */
  const requestOffer = async (streamType: StreamType, sub: Subscription, sid?: string): Promise<string> => {
    const after = sub.answers;
    const answered = new Promise<void>((resolve) => sub.answerWaiters.push({ after, resolve }));
    send(publisher, { type: 'requestoffer', roomType: streamType, ...(sid === undefined ? {} : { sid }) });
    log(`requestoffer (${streamType}${sid === undefined ? '' : `, sid ${sid}`})`);
    await answered;
    return sub.sid;
  };
  const subscribe = (streamType: StreamType): { sub: Subscription; answered: Promise<string> } => {
    if (subscriptions.has(streamType)) throw new Error(`already subscribed to ${streamType}`);
    const pc = newPeerConnection(streamType);
    const sub: Subscription = { pc, sid: '', offers: 0, answers: 0, pendingCandidates: [], answerWaiters: [] };
    subscriptions.set(streamType, sub);
    pc.addEventListener('icecandidate', (ev) => {
      if (ev.candidate === null || ev.candidate.candidate === '') return;
      const { candidate, sdpMid, sdpMLineIndex } = ev.candidate;
      send(publisher, { type: 'candidate', roomType: streamType, sid: sub.sid, payload: { candidate: { candidate, sdpMid, sdpMLineIndex } } });
    });
    return { sub, answered: requestOffer(streamType, sub) };
  };
  window.e2eApi = {
    publishScreen: notImplemented('publishScreen'),
    reoffer: notImplemented('reoffer'),
    subscribe: async (streamType) => {
      await subscribe(streamType).answered;
    },
    requestOfferAgain: (streamType) => {
      const sub = subscription(streamType);
      return requestOffer(streamType, sub, sub.sid);
    },
    selectStream: (streamType, payload) => {
      send(publisher, { type: 'selectStream', roomType: streamType, payload });
      log(`selectStream (${streamType}) ${JSON.stringify(payload)}`);
    },
    stats: async (streamType) => ({ ...inboundCounters(await subscription(streamType).pc.getStats()), pollMs: 0 }),
    offers: (streamType) => {
      const sub = subscription(streamType);
      return { offers: sub.offers, answers: sub.answers, sid: sub.sid };
    },
  };
  log(`publisher ${publisher}: requestoffer (${firstStream})`);
  const { sub } = subscribe(firstStream);
  // The connection stays open: the runner drives the further steps through window.e2eApi.
  await waitForMedia(sub.pc, firstStream);
}

// ---------------------------------------------------------------------------------------------
// Directly against Janus' VideoRoom (diagnostics).

async function runJanus(): Promise<void> {
  const ch = await Channel.open(required('janus'), 'janus-protocol');
  let seq = 0;
  const tx = (): string => `${role}-${++seq}`;
  const call = async (msg: Json, what: string): Promise<Json> => {
    const transaction = tx();
    ch.send({ ...msg, transaction });
    const reply = await ch.next((m) => m.transaction === transaction && m.janus !== 'ack', what);
    if (reply.janus === 'error' || reply.plugindata?.data?.error) throw new Error(`${what}: ${JSON.stringify(reply.error ?? reply.plugindata.data)}`);
    return reply;
  };
  const session = (await call({ janus: 'create' }, 'create session')).data.id as number;
  const handle = (await call({ janus: 'attach', session_id: session, plugin: 'janus.plugin.videoroom' }, 'attach')).data.id as number;
  const base = { session_id: session, handle_id: handle };
  const room = Number(required('janusRoom'));
  const trickle = (pc: RTCPeerConnection): void => {
    pc.addEventListener('icecandidate', (ev) => {
      const candidate = ev.candidate === null || ev.candidate.candidate === '' ? { completed: true } : ev.candidate.toJSON();
      ch.send({ janus: 'trickle', ...base, candidate, transaction: tx() });
    });
  };

  if (role === 'publisher') {
    await call({ janus: 'message', ...base, body: { request: 'create', room, audiocodec: 'opus', videocodec: 'vp8' } }, 'create room');
    const joined = await call({ janus: 'message', ...base, body: { request: 'join', ptype: 'publisher', room } }, 'join');
    state.sessionId = String(joined.plugindata.data.id);
    const media = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    const pc = newPeerConnection();
    for (const track of media.getTracks()) pc.addTrack(track, media);
    trickle(pc);
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    const configured = await call({ janus: 'message', ...base, body: { request: 'configure', audio: true, video: true }, jsep: { type: 'offer', sdp: offer.sdp } }, 'configure');
    await pc.setRemoteDescription(configured.jsep);
    state.phase = 'publishing';
    log('published');
    return;
  }

  const feed = Number(required('feed'));
  const attached = await call({ janus: 'message', ...base, body: { request: 'join', ptype: 'subscriber', room, streams: [{ feed }] } }, 'subscribe');
  const pc = newPeerConnection();
  trickle(pc);
  await pc.setRemoteDescription(attached.jsep);
  const answer = await pc.createAnswer();
  await pc.setLocalDescription(answer);
  await call({ janus: 'message', ...base, body: { request: 'start' }, jsep: { type: 'answer', sdp: answer.sdp } }, 'start');
  await waitForMedia(pc);
  ch.close();
}

(params.get('mode') === 'janus' ? runJanus() : runSignaling()).catch(fail);
