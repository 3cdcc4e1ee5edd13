import { createHmac, randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import WebSocket from 'ws';

/** Default for every wait of the client (ms). */
export const DEFAULT_CLIENT_TIMEOUT_MS = 5_000;

/** Options for {@link TestClient.connect}. */
export interface TestClientConnectOptions {
  /** Extra HTTP headers for the upgrade request (e.g. `X-Real-IP`, `User-Agent`). */
  headers?: Record<string, string>;
  /** Connect timeout in ms; default 5 s. */
  timeout?: number;
  /** PEM CA certificate(s) to trust for `wss://` URLs (e.g. a test certificate). */
  ca?: string;
  /** Local address to connect from, e.g. `127.0.0.2` to tell a client from a proxy on 127.0.0.1. */
  localAddress?: string;
}

/** Parameters of a client (`auth.type` "client") hello. */
export interface HelloOptions {
  /** `auth.url`: the Nextcloud backend URL (FakeNextcloud#backendUrl). */
  url: string;
  /** `auth.params`: `{userid, ticket}` for 1.0, `{token}` for 2.0. */
  params: unknown;
  /** Hello version; default "1.0". */
  version?: '1.0' | '2.0';
  /** Client feature ids (`hello.features`). */
  features?: string[];
  /** Request id; default: next auto-increment id. */
  id?: string;
}

/** Parameters of an internal-client hello. */
export interface HelloInternalOptions {
  /** `auth.params.backend`. */
  backend: string;
  /** `[clients] internalsecret` of the server. */
  secret: string;
  features?: string[];
  /** Random string; default 64 random hex chars (the server requires ≥ 32). */
  random?: string;
  id?: string;
}

/** How the connection ended. */
export interface CloseInfo {
  code: number;
  reason: string;
}

interface Waiter {
  /** Returns true when the message is accepted (waiter done); false to keep waiting. */
  offer(message: unknown): boolean;
  fail(err: Error): void;
}

interface ReplyWaiter {
  id: string;
  resolve(message: unknown): void;
  fail(err: Error): void;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- protocol messages are free-form JSON in tests */

/**
 * Protocol test client for the signaling `/spreed` WebSocket (Go `server/testclient_test.go`).
 *
 * Every received message is queued in arrival order from the moment the socket opens, so the
 * welcome message is always the first one `next()` returns. Two ways of reading:
 *
 * - `next()` / `expectError()` take the head of the queue (strict order);
 * - `waitForMessage(predicate)` drops messages until one matches.
 *
 * The request helpers (`hello`, `helloInternal`, `resume`, `joinRoom`, `bye`) send a request with
 * an id and take *the reply carrying that id* out of the queue, leaving every other message
 * (welcome, events) queued in order for later `next()` calls.
 */
export class TestClient {
  readonly #ws: WebSocket;
  readonly #queue: any[] = [];
  readonly #waiters: Waiter[] = [];
  readonly #replyWaiters: ReplyWaiter[] = [];
  readonly #closeWaiters: ((info: CloseInfo) => void)[] = [];
  #closeInfo: CloseInfo | undefined;
  #nextId = 1;

  /** Every message received so far, in arrival order (for debugging failed tests). */
  readonly messages: any[] = [];

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
    ws.on('close', (code, reason) => this.#onClose(code, reason.toString()));
    // Errors after open are followed by 'close'; keep them from becoming uncaught.
    ws.on('error', () => undefined);
  }

  /** Opens a WebSocket to `url` (e.g. `ws://127.0.0.1:P/spreed`) and starts queueing messages. */
  static connect(url: string, opts: TestClientConnectOptions = {}): Promise<TestClient> {
    const timeout = opts.timeout ?? DEFAULT_CLIENT_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, {
        headers: opts.headers,
        handshakeTimeout: timeout,
        ca: opts.ca,
        ...(opts.localAddress === undefined ? {} : { localAddress: opts.localAddress }),
      });
      // Construct before 'open' so that frames sent right after the upgrade are queued.
      const client = new TestClient(ws);
      const fail = (err: Error): void => {
        clearTimeout(timer);
        ws.terminate();
        reject(err);
      };
      const timer = setTimeout(
        () => fail(new Error(`TestClient.connect(${url}): timed out after ${timeout} ms`)),
        timeout,
      );
      ws.once('open', () => {
        clearTimeout(timer);
        resolve(client);
      });
      ws.once('unexpected-response', (_req, res) => {
        fail(new Error(`TestClient.connect(${url}): HTTP ${res.statusCode} instead of an upgrade`));
      });
      ws.once('error', (err) => fail(new Error(`TestClient.connect(${url}): ${err.message}`, { cause: err })));
    });
  }

  /** Sends `message` as one JSON text frame. */
  send(message: object): void {
    this.#ws.send(JSON.stringify(message));
  }

  /** Sends a raw frame (text by default; `binary: true` for a binary frame). */
  sendRaw(data: string | Buffer, opts: { binary?: boolean } = {}): void {
    this.#ws.send(data, { binary: opts.binary ?? false });
  }

  /**
   * The next message in arrival order. With `type`, a message of another type rejects (the
   * message is consumed and shown in the error).
   */
  next(type?: string, timeoutMs = DEFAULT_CLIENT_TIMEOUT_MS): Promise<any> {
    const what = type === undefined ? 'next message' : `next message of type '${type}'`;
    return this.#take(what, timeoutMs, (message, accept, reject) => {
      if (type !== undefined && (message as { type?: unknown })?.type !== type) {
        reject(new Error(`TestClient: expected ${what}, got ${JSON.stringify(message)}`));
      } else {
        accept(message);
      }
      return true;
    });
  }

  /** Drops messages until one satisfies `predicate`, and resolves with it. */
  waitForMessage(predicate: (m: any) => boolean, timeoutMs = DEFAULT_CLIENT_TIMEOUT_MS): Promise<any> {
    return this.#take('a matching message', timeoutMs, (message, accept) => {
      if (!predicate(message)) return false;
      accept(message);
      return true;
    });
  }

  /** The next message must be `{type:'error', error:{code}}`; resolves with it. */
  expectError(code: string, timeoutMs = DEFAULT_CLIENT_TIMEOUT_MS): Promise<any> {
    return this.#take(`error '${code}'`, timeoutMs, (message, accept, reject) => {
      const m = message as { type?: unknown; error?: { code?: unknown } };
      if (m?.type === 'error' && m.error?.code === code) accept(message);
      else reject(new Error(`TestClient: expected error '${code}', got ${JSON.stringify(message)}`));
      return true;
    });
  }

  /**
   * Fails if any message arrives within `ms` (messages queued before the call are not
   * counted). Also fails if the connection closes meanwhile.
   */
  expectNoMessage(ms: number): Promise<void> {
    const seenBefore = this.messages.length;
    return new Promise<void>((resolve, reject) => {
      setTimeout(() => {
        if (this.messages.length === seenBefore) {
          resolve();
          return;
        }
        const arrived = this.messages.slice(seenBefore).map((m) => JSON.stringify(m));
        reject(new Error(`TestClient: expected no message for ${ms} ms, got ${arrived.join(', ')}`));
      }, ms);
    });
  }

  /** Client hello (`auth.type` client). Resolves with the reply: a `hello` or an `error` message. */
  hello(opts: HelloOptions): Promise<any> {
    const id = opts.id ?? this.#newId();
    this.send({
      id,
      type: 'hello',
      hello: {
        version: opts.version ?? '1.0',
        ...(opts.features === undefined ? {} : { features: opts.features }),
        auth: { url: opts.url, params: opts.params },
      },
    });
    return this.#reply(id, 'hello');
  }

  /** Internal-client hello: `token` = lowercase hex HMAC-SHA256(secret, random). */
  helloInternal(opts: HelloInternalOptions): Promise<any> {
    const id = opts.id ?? this.#newId();
    const random = opts.random ?? randomBytes(32).toString('hex');
    const token = createHmac('sha256', opts.secret).update(random).digest('hex');
    this.send({
      id,
      type: 'hello',
      hello: {
        version: '1.0',
        ...(opts.features === undefined ? {} : { features: opts.features }),
        auth: { type: 'internal', params: { random, token, backend: opts.backend } },
      },
    });
    return this.#reply(id, 'hello');
  }

  /** Resume hello (`hello.resumeid`). Resolves with the `hello` or `error` reply. */
  resume(resumeid: string, opts: { id?: string; version?: '1.0' | '2.0' } = {}): Promise<any> {
    const id = opts.id ?? this.#newId();
    this.send({ id, type: 'hello', hello: { version: opts.version ?? '1.0', resumeid } });
    return this.#reply(id, 'resume hello');
  }

  /**
   * Joins `roomid` (empty string: leave) with the given Nextcloud room session id. Resolves
   * with the `room` reply or an `error` message.
   */
  joinRoom(roomid: string, sessionid?: string, opts: { id?: string } = {}): Promise<any> {
    const id = opts.id ?? this.#newId();
    this.send({ id, type: 'room', room: { roomid, ...(sessionid === undefined ? {} : { sessionid }) } });
    return this.#reply(id, `room '${roomid}'`);
  }

  /** Sends `bye` and resolves with the reply (`{"id":..,"type":"bye"}`). */
  bye(): Promise<any> {
    const id = this.#newId();
    this.send({ id, type: 'bye', bye: {} });
    return this.#reply(id, 'bye');
  }

  /** Resolves when the connection is closed (by either side) with the close code and reason. */
  closed(timeoutMs = DEFAULT_CLIENT_TIMEOUT_MS): Promise<CloseInfo> {
    if (this.#closeInfo !== undefined) return Promise.resolve(this.#closeInfo);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.#closeWaiters.indexOf(done);
        if (i >= 0) this.#closeWaiters.splice(i, 1);
        reject(new Error(`TestClient.closed(): timed out after ${timeoutMs} ms waiting for the server to close`));
      }, timeoutMs);
      const done = (info: CloseInfo): void => {
        clearTimeout(timer);
        resolve(info);
      };
      this.#closeWaiters.push(done);
    });
  }

  /** Closes the connection from the client side (code 1000); idempotent. */
  /**
   * Stops reading from the socket (the kernel buffers fill, then the server's write queue):
   * how a client that hangs looks to the server. `resumeReading()` undoes it.
   */
  pauseReading(): void {
    this.#socket().pause();
  }

  resumeReading(): void {
    this.#socket().resume();
  }

  #socket(): Socket {
    // ws keeps its TCP socket in a private field; tests need it to simulate a stalled peer.
    return (this.#ws as unknown as { _socket: Socket })._socket;
  }

  close(): void {
    if (this.#closeInfo !== undefined) return;
    if (this.#ws.readyState === WebSocket.CONNECTING) {
      this.#ws.terminate();
      return;
    }
    this.#ws.close(1000);
    // A server that never answers the close frame must not keep the test process alive.
    setTimeout(() => this.#ws.terminate(), 1_000).unref();
  }

  /** Whether the connection has closed. */
  get isClosed(): boolean {
    return this.#closeInfo !== undefined;
  }

  #newId(): string {
    return String(this.#nextId++);
  }

  /** Takes the message with `id` out of the queue (wherever it is), leaving the others. */
  #reply(id: string, what: string, timeoutMs = DEFAULT_CLIENT_TIMEOUT_MS): Promise<any> {
    const index = this.#queue.findIndex((m) => m?.id === id);
    if (index >= 0) return Promise.resolve(this.#queue.splice(index, 1)[0]);
    const label = `reply to ${what} (id ${id})`;
    if (this.#closeInfo !== undefined) return Promise.reject(this.#closedError(label));
    return new Promise((resolve, reject) => {
      const entry: ReplyWaiter = {
        id,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        fail: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      const timer = setTimeout(() => {
        const i = this.#replyWaiters.indexOf(entry);
        if (i >= 0) this.#replyWaiters.splice(i, 1);
        reject(this.#timeoutError(label, timeoutMs));
      }, timeoutMs);
      this.#replyWaiters.push(entry);
    });
  }

  #take(
    what: string,
    timeoutMs: number,
    handle: (message: unknown, accept: (m: unknown) => void, reject: (e: Error) => void) => boolean,
  ): Promise<any> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const accept = (m: unknown): void => {
        settled = true;
        clearTimeout(timer);
        resolve(m);
      };
      const fail = (e: Error): void => {
        settled = true;
        clearTimeout(timer);
        reject(e);
      };
      const waiter: Waiter = {
        offer: (message) => handle(message, accept, fail),
        fail,
      };
      const timer = setTimeout(() => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        if (!settled) fail(this.#timeoutError(what, timeoutMs));
      }, timeoutMs);
      // Serve from the queue first, but only if nobody is queued ahead of us.
      if (this.#waiters.length === 0) {
        while (this.#queue.length > 0) {
          const message = this.#queue.shift();
          if (waiter.offer(message)) return;
        }
        if (this.#closeInfo !== undefined) {
          fail(this.#closedError(what));
          return;
        }
      }
      this.#waiters.push(waiter);
    });
  }

  #onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    const text = Array.isArray(data) ? Buffer.concat(data).toString() : Buffer.from(data as ArrayBuffer).toString();
    let message: unknown;
    if (isBinary) {
      message = { type: '<binary>', data: text };
    } else {
      try {
        message = JSON.parse(text);
      } catch {
        message = { type: '<invalid-json>', data: text };
      }
    }
    this.messages.push(message);
    const id = (message as { id?: unknown })?.id;
    if (typeof id === 'string') {
      const index = this.#replyWaiters.findIndex((w) => w.id === id);
      if (index >= 0) {
        this.#replyWaiters.splice(index, 1)[0]!.resolve(message);
        return;
      }
    }
    const waiter = this.#waiters[0];
    if (waiter === undefined) {
      this.#queue.push(message);
      return;
    }
    // The head waiter gets the message; waitForMessage() drops non-matching ones.
    if (waiter.offer(message)) this.#waiters.shift();
  }

  #onClose(code: number, reason: string): void {
    this.#closeInfo = { code, reason };
    for (const waiter of this.#waiters.splice(0)) waiter.fail(this.#closedError('message'));
    for (const reply of this.#replyWaiters.splice(0)) reply.fail(this.#closedError(`reply (id ${reply.id})`));
    for (const done of this.#closeWaiters.splice(0)) done(this.#closeInfo);
  }

  #timeoutError(what: string, timeoutMs: number): Error {
    return new Error(
      `TestClient: timed out after ${timeoutMs} ms waiting for ${what}; still queued: ${JSON.stringify(this.#queue)}`,
    );
  }

  #closedError(what: string): Error {
    const info = this.#closeInfo;
    return new Error(
      `TestClient: connection closed (code ${info?.code}, reason '${info?.reason ?? ''}') while waiting for ${what}; ` +
        `last messages: ${JSON.stringify(this.messages.slice(-3))}`,
    );
  }
}
