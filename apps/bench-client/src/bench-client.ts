// One simulated Talk client: a WebSocket to /spreed that says hello v1.0, may join a room, and
// sends/receives benchmark messages. Deliveries of benchmark messages are recognised by a marker
// in the raw frame (no JSON parse on the hot path); everything else is parsed.
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

/** Marker of benchmark payloads: `"bench":"<sender index>:<send time, ms since time origin>"`. */
const BENCH_MARKER = Buffer.from('"bench":"');
const QUOTE = 0x22;
const COLON = 0x3a;

/** Receiver of everything a client observes; one sink is shared by all clients of a run. */
export interface ClientSink {
  /** A benchmark message sent by client `from` at `sentAt` (performance.now() ms) arrived. */
  delivered(to: BenchClient, from: number, sentAt: number): void;
  /** The number of room members this client knows changed. */
  members(client: BenchClient): void;
  /** An error message from the server (not an answer to a pending request). */
  error(client: BenchClient, code: string): void;
  /** The connection closed (after the run or because the server ended it). */
  closed(client: BenchClient, reason: string): void;
}

export class ClientError extends Error {
  override readonly name = 'ClientError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface PendingRequest {
  id: string;
  type: string;
  resolve: (msg: Record<string, unknown>) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class BenchClient {
  /** Position in the run; senders are identified by it in the benchmark marker. */
  readonly index: number;
  /** Public session id from the hello response (never derived locally). */
  sessionId = '';
  /** JSON string literal of `sessionId`, ready to splice into frames. */
  sessionIdJson = '""';
  /** Private session id from the hello response. */
  resumeId = '';
  /** Room members this client has seen join (own session included), minus those that left. */
  roomMembers = 0;
  /** Deliveries of this client's messages still outstanding (closed-loop scenarios). */
  outstanding = 0;
  /** Time the outstanding window last made progress (performance.now() ms). */
  lastProgress = 0;
  readonly #ws: WebSocket;
  readonly #sink: ClientSink;
  #pending: PendingRequest | undefined;
  #nextId = 1;
  #closed = false;

  constructor(index: number, url: string, sink: ClientSink) {
    this.index = index;
    this.#sink = sink;
    this.#ws = new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: true, maxPayload: 64 * 1024 * 1024 });
    this.#ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) this.#onFrame(data);
    });
    this.#ws.on('close', (code, reason) => this.#onClose(`close ${code}${reason.length > 0 ? ` ${reason.toString()}` : ''}`));
    this.#ws.on('error', (err) => {
      this.#pending?.reject(err);
      this.#onClose(`error ${err.message}`);
    });
  }

  /** Whether the connection is gone. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes queued in the socket, not yet written. */
  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  /** Resolves once the WebSocket is open. */
  opened(timeoutMs: number): Promise<void> {
    if (this.#ws.readyState === WebSocket.OPEN) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new ClientError('timeout', 'connect timed out')), timeoutMs);
      this.#ws.once('open', () => {
        clearTimeout(timer);
        resolve();
      });
      this.#ws.once('error', (err) => {
        clearTimeout(timer);
        reject(new ClientError((err as NodeJS.ErrnoException).code ?? 'error', err.message));
      });
      this.#ws.once('close', () => {
        clearTimeout(timer);
        reject(new ClientError('closed', 'connection closed while connecting'));
      });
    });
  }

  /** Sends hello v1.0 and stores the session ids of the response. */
  async hello(authUrl: string, params: Record<string, unknown>, timeoutMs: number): Promise<void> {
    const msg = await this.#request('hello', { version: '1.0', auth: { url: authUrl, params } }, timeoutMs);
    const hello = (msg['hello'] ?? {}) as Record<string, unknown>;
    if (typeof hello['sessionid'] !== 'string' || hello['sessionid'] === '') throw new ClientError('no_sessionid', 'hello response without sessionid');
    this.sessionId = hello['sessionid'];
    this.sessionIdJson = JSON.stringify(this.sessionId);
    this.resumeId = typeof hello['resumeid'] === 'string' ? hello['resumeid'] : '';
  }

  /**
   * Resumes a session whose connection was lost (hello with `resumeid`); queued messages follow.
   * Fails with the server's code (`no_such_session` once the session expired).
   */
  async resume(resumeId: string, timeoutMs: number): Promise<void> {
    const msg = await this.#request('hello', { version: '1.0', resumeid: resumeId }, timeoutMs);
    const hello = (msg['hello'] ?? {}) as Record<string, unknown>;
    if (typeof hello['sessionid'] !== 'string') throw new ClientError('no_sessionid', 'resume response without sessionid');
    this.sessionId = hello['sessionid'];
    this.sessionIdJson = JSON.stringify(this.sessionId);
    this.resumeId = resumeId;
  }

  /** Leaves the current room (a `room` request with an empty room id). */
  async leave(timeoutMs: number): Promise<void> {
    await this.#request('room', { roomid: '', sessionid: '' }, timeoutMs);
  }

  /**
   * Stops reading from the socket (a stalled client): the server's writes pile up in its own
   * buffers until it cuts the connection off or the client resumes reading.
   */
  stall(): void {
    this.#ws.pause();
  }

  /** Joins a room (`sessionid` = the Nextcloud room session id to announce). */
  async join(roomid: string, roomSessionId: string, timeoutMs: number): Promise<void> {
    await this.#request('room', { roomid, sessionid: roomSessionId }, timeoutMs);
  }

  /** Sends a pre-built frame. */
  send(frame: string): void {
    if (!this.#closed) this.#ws.send(frame);
  }

  /** Frame of a benchmark message to one session. */
  static sessionMessage(from: number, recipientIdJson: string, sentAt: number, nowIso: string): string {
    return `{"type":"message","message":{"recipient":{"type":"session","sessionid":${recipientIdJson}},"data":{"now":"${nowIso}","bench":"${from}:${sentAt.toFixed(3)}"}}}`;
  }

  /** Frame of a benchmark message to the sender's room. */
  static roomMessage(from: number, sentAt: number, nowIso: string): string {
    return `{"type":"message","message":{"recipient":{"type":"room"},"data":{"now":"${nowIso}","bench":"${from}:${sentAt.toFixed(3)}"}}}`;
  }

  /** Says bye (ends the session at once, no resume window) and closes. */
  bye(): void {
    if (this.#closed) return;
    try {
      this.#ws.send('{"type":"bye","bye":{}}');
    } catch {
      // socket already failing; terminate() below covers it
    }
    this.#ws.close(1000);
  }

  /** Drops the connection without a close handshake. */
  terminate(): void {
    this.#ws.terminate();
  }

  #request(type: string, payload: unknown, timeoutMs: number): Promise<Record<string, unknown>> {
    if (this.#pending !== undefined) return Promise.reject(new ClientError('busy', 'request already pending'));
    if (this.#closed) return Promise.reject(new ClientError('closed', 'connection closed'));
    const id = String(this.#nextId++);
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(this.#pending?.timer);
        this.#pending = undefined;
      };
      this.#pending = {
        id,
        type,
        resolve: (m) => {
          done();
          resolve(m);
        },
        reject: (e) => {
          done();
          reject(e);
        },
        timer: setTimeout(() => this.#pending?.reject(new ClientError('timeout', `${type} timed out`)), timeoutMs),
      };
      this.#ws.send(JSON.stringify({ id, type, [type]: payload }));
    });
  }

  #onFrame(data: Buffer): void {
    const at = data.indexOf(BENCH_MARKER);
    if (at >= 0) {
      const start = at + BENCH_MARKER.length;
      const colon = data.indexOf(COLON, start);
      const end = data.indexOf(QUOTE, start);
      if (colon > start && end > colon) {
        const from = Number(data.toString('latin1', start, colon));
        const sentAt = Number(data.toString('latin1', colon + 1, end));
        this.#sink.delivered(this, from, sentAt);
        return;
      }
    }
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
    } catch {
      return;
    }
    const type = msg['type'];
    const pending = this.#pending;
    if (pending !== undefined && msg['id'] === pending.id) {
      if (type === 'error') {
        const error = (msg['error'] ?? {}) as Record<string, unknown>;
        pending.reject(new ClientError(String(error['code'] ?? 'error'), String(error['message'] ?? 'error')));
      } else pending.resolve(msg);
      return;
    }
    switch (type) {
      case 'event':
        this.#onEvent((msg['event'] ?? {}) as Record<string, unknown>);
        break;
      case 'error': {
        const error = (msg['error'] ?? {}) as Record<string, unknown>;
        this.#sink.error(this, String(error['code'] ?? 'error'));
        break;
      }
      case 'bye': {
        const bye = (msg['bye'] ?? {}) as Record<string, unknown>;
        this.#onClose(`bye ${String(bye['reason'] ?? '')}`);
        this.#ws.close(1000);
        break;
      }
      default:
        break;
    }
  }

  #onEvent(event: Record<string, unknown>): void {
    if (event['target'] !== 'room') return;
    if (event['type'] === 'join' && Array.isArray(event['join'])) {
      this.roomMembers += event['join'].length;
      this.#sink.members(this);
    } else if (event['type'] === 'leave' && Array.isArray(event['leave'])) {
      this.roomMembers -= event['leave'].length;
      this.#sink.members(this);
    }
  }

  #onClose(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending?.reject(new ClientError('closed', `connection closed (${reason})`));
    this.#sink.closed(this, reason);
  }

  /** performance.now() — the clock of `sentAt`. */
  static now(): number {
    return performance.now();
  }
}
