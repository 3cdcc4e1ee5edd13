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
import { pollInboundStats } from './stats';
import type { E2eState, InboundStats } from './types';

declare global {
  interface Window {
    e2e: E2eState;
  }
}

const params = new URLSearchParams(location.search);
const role = params.get('role') === 'subscriber' ? 'subscriber' : 'publisher';
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

function newPeerConnection(): RTCPeerConnection {
  const pc = new RTCPeerConnection({ iceServers: [] });
  pc.addEventListener('iceconnectionstatechange', () => log(`ice ${pc.iceConnectionState}`));
  pc.addEventListener('connectionstatechange', () => {
    log(`connection ${pc.connectionState}`);
    if (pc.connectionState === 'connected') state.connected = true;
  });
  return pc;
}

async function waitForMedia(pc: RTCPeerConnection): Promise<void> {
  state.phase = 'receiving';
  const stats: InboundStats = await pollInboundStats(pc, (s) => {
    state.stats = s;
  });
  state.stats = stats;
  state.phase = 'done';
  state.doneAt = Date.now();
  log(`media: ${JSON.stringify(stats)}`);
}

// ---------------------------------------------------------------------------------------------
// Through the signaling server (upstream MCU flow, fact sheet 1.8/1.9).

async function runSignaling(): Promise<void> {
  const url = required('ws');
  const ch = await Channel.open(url);
  const welcome = await ch.next((m) => m.type === 'welcome', 'welcome');
  log(`welcome ${JSON.stringify(welcome.welcome?.features ?? [])}`);

  let seq = 0;
  const nextId = (): string => `${role}-${++seq}`;
  const hello = await ch.request(
    { id: nextId(), type: 'hello', hello: { version: '1.0', auth: { url: required('backend'), params: { userid: required('userid'), ticket: required('ticket') } } } },
    'hello',
  );
  const self = hello.hello.sessionid as string;
  state.sessionId = self;
  log(`hello: session ${self}`);

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
  ch.onOther((m) => {
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

  if (role === 'publisher') {
    const media = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    const pc = newPeerConnection();
    for (const track of media.getTracks()) pc.addTrack(track, media);
    const sid = newSid();
    pc.addEventListener('icecandidate', (ev) => {
      if (ev.candidate === null || ev.candidate.candidate === '') return;
      const { candidate, sdpMid, sdpMLineIndex } = ev.candidate;
      send(self, { type: 'candidate', roomType: 'video', sid, payload: { candidate: { candidate, sdpMid, sdpMLineIndex } } });
    });
    let answered: () => void = () => undefined;
    const answer = new Promise<void>((resolve) => (answered = resolve));
    forEachMcuMessage((msg) => {
      const data = msg.data as Json;
      if (data?.type === 'answer') {
        log('answer from the MCU');
        pc.setRemoteDescription(data.payload).then(answered, fail);
      } else if (data?.type === 'candidate' && data.payload?.candidate) {
        pc.addIceCandidate(data.payload.candidate).catch((err: unknown) => log(`addIceCandidate: ${String(err)}`));
      }
    });
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    send(self, { type: 'offer', roomType: 'video', sid, payload: { type: 'offer', sdp: offer.sdp } });
    log('offer sent');
    await answer;
    state.phase = 'publishing';
    return;
  }

  // Subscriber: the publisher is whoever else is in the room.
  while (others.length === 0) await new Promise<void>((resolve) => othersChanged.push(resolve));
  const publisher = others[0] as string;
  log(`publisher ${publisher}: requestoffer`);
  const pc = newPeerConnection();
  let sid = '';
  const pendingCandidates: Json[] = [];
  pc.addEventListener('icecandidate', (ev) => {
    if (ev.candidate === null || ev.candidate.candidate === '') return;
    const { candidate, sdpMid, sdpMLineIndex } = ev.candidate;
    send(publisher, { type: 'candidate', roomType: 'video', sid, payload: { candidate: { candidate, sdpMid, sdpMLineIndex } } });
  });
  forEachMcuMessage((msg) => {
    const data = msg.data as Json;
    if (data?.type === 'offer') {
      sid = data.sid ?? '';
      log(`offer from the MCU (sid ${sid})`);
      void (async () => {
        await pc.setRemoteDescription(data.payload);
        for (const c of pendingCandidates.splice(0)) await pc.addIceCandidate(c).catch(() => undefined);
        const answer = await pc.createAnswer();
        await pc.setLocalDescription(answer);
        send(publisher, { type: 'answer', roomType: 'video', sid, payload: { type: 'answer', sdp: answer.sdp } });
        log('answer sent');
      })().catch(fail);
    } else if (data?.type === 'candidate' && data.payload?.candidate) {
      if (pc.remoteDescription === null) pendingCandidates.push(data.payload.candidate);
      else pc.addIceCandidate(data.payload.candidate).catch((err: unknown) => log(`addIceCandidate: ${String(err)}`));
    }
  });
  send(publisher, { type: 'requestoffer', roomType: 'video' });
  await waitForMedia(pc);
  ch.close();
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
