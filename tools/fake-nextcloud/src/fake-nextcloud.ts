import { createHmac, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { SignJWT } from 'jose';
import { BACKEND_HEADER, CHECKSUM_HEADER, RANDOM_HEADER, checksum, newRandom, talkValidates } from './checksum';
import { generateHelloV2Keys, type HelloV2Algorithm, type HelloV2Keys } from './hello-v2-keys';
import { JSON_CONTENT_TYPE, ocsEnvelope, sendJson } from './ocs';

/** Options for {@link startFakeNextcloud}. */
export interface FakeNextcloudOptions {
  /** Shared secret (`[backend] secret` / the backend section's `secret` of the server). */
  secret: string;
  /** Listen address; default 127.0.0.1. */
  host?: string;
  /** Listen port; default 0 (any free port). */
  port?: number;
  /** Dev mode: any userid/ticket is accepted and any room exists. */
  open?: boolean;
}

/** One request the fake received (signaling backend requests and capabilities fetches). */
export interface RecordedRequest {
  /** Request path (with query). */
  path: string;
  /** Body `type` of a backend request (`auth`, `room`, `ping`, `session`, …), or `capabilities`. */
  type: string;
  /** Parsed JSON body (raw string if it was not JSON; undefined for GET). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- free-form JSON for assertions
  body: any;
  headers: Record<string, string | string[] | undefined>;
  /** Whether random/checksum passed Talk's check (always false for capabilities GETs). */
  checksumValid: boolean;
  /** `Date.now()` on arrival. */
  at: number;
}

/** An error object as Talk returns it inside `{"type":"error","error":…}`. */
export interface TalkError {
  code: string;
  message: string;
}

/** Scripted room (see {@link FakeNextcloud.setRoom}). */
export interface FakeRoom {
  /** Room properties sent on join; default `{"name": <roomid>, "type": 3}`. */
  properties?: Record<string, unknown>;
  /** `permissions` of the join answer; omitted from the answer when undefined. */
  permissions?: string[];
  /** `session.userid` of the join answer ("room session data"). */
  sessionUserId?: string;
  /** Answer joins with this error instead. */
  error?: TalkError;
  /** If set, only these user ids may join (anonymous: ""). Others get `no_such_room`. */
  allowedUsers?: string[];
}

/** Failure modes for {@link FakeNextcloud.failNext}. */
export type FailureMode = 'http500' | 'garbage' | 'wrong-type' | 'ocs-429' | 'close';

/** Backend endpoint path (Talk clients send the v3 form; v1/v2 are accepted too). */
const BACKEND_PATH = /^\/ocs\/v2\.php\/apps\/spreed\/api\/v[123]\/signaling\/backend\/?$/;
const CAPABILITIES_PATH = /^\/ocs\/v2\.php\/cloud\/capabilities\/?$/;

/** Talk's error texts (lib/Controller/SignalingController.php). */
export const TalkErrors = {
  invalidRequest: { code: 'invalid_request', message: 'The request could not be authenticated.' },
  invalidTicket: { code: 'invalid_ticket', message: 'The given ticket is not valid for this user.' },
  noSuchUser: { code: 'no_such_user', message: 'The given user does not exist.' },
  noSuchRoom: { code: 'no_such_room', message: 'The user is not invited to this room.' },
} as const satisfies Record<string, TalkError>;

/** Spreed features the fake advertises by default (no `signaling-v3`: tests opt in). */
export const DEFAULT_FEATURES: readonly string[] = [
  'audio',
  'video',
  'chat-v2',
  'conversation-v4',
  'guest-signaling',
  'empty-group-room',
  'guest-display-names',
  'multi-room-users',
  'no-ping',
  'system-messages',
  'in-call-flags',
  'conversation-call-flags',
  'webinary-lobby',
  'start-call-flag',
  'raise-hand',
];

/** Default room properties; what `--open` serves for any room. */
export function defaultRoomProperties(roomid: string): Record<string, unknown> {
  return { name: roomid, type: 3 };
}

/** Hello v2 JWT lifetime Talk uses (`Config::getSignalingTicketV2`: valid for one minute). */
const DEFAULT_TOKEN_LIFETIME_SEC = 60;

interface UserEntry {
  ticket: string;
  user?: Record<string, unknown>;
}

/**
 * A stand-in for Nextcloud Talk towards the signaling server: checks every backend request's
 * `Spreed-Signaling-Random`/`-Checksum` like Talk's `SignalingController::backend()`, answers in
 * OCS envelopes, serves capabilities, issues hello v2 tokens and signs backend API requests like
 * Talk's `BackendNotifier`. Scriptable per test (users, rooms, delays, failures) and records every
 * request it gets.
 */
export class FakeNextcloud {
  /** Base URL with trailing slash, e.g. `http://127.0.0.1:45678/`. */
  readonly url: string;
  /** `url` + the v1 backend path: what goes into hello `auth.url` and `[backend]` config. */
  readonly backendUrl: string;
  /** The shared secret. */
  readonly secret: string;
  /** Every request received, in arrival order. */
  readonly requests: RecordedRequest[] = [];

  readonly #server: Server;
  readonly #open: boolean;
  readonly #sockets = new Set<Socket>();
  readonly #events = new EventEmitter();
  readonly #users = new Map<string, UserEntry>();
  readonly #anonymousTickets = new Set<string>();
  readonly #denied = new Map<string, TalkError>();
  readonly #rooms = new Map<string, FakeRoom>();
  readonly #delays = new Map<string, number>();
  readonly #failures = new Map<string, FailureMode[]>();
  #features: string[] = [...DEFAULT_FEATURES];
  #signalingConfig: Record<string, unknown> = {};
  #helloV2Keys: HelloV2Keys | undefined;

  private constructor(server: Server, url: string, opts: FakeNextcloudOptions) {
    this.#server = server;
    this.url = url;
    this.backendUrl = `${url}ocs/v2.php/apps/spreed/api/v1/signaling/backend`;
    this.secret = opts.secret;
    this.#open = opts.open ?? false;
    this.#events.setMaxListeners(0);
    server.on('request', (req, res) => this.#handle(req, res));
    server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
  }

  /** @internal use {@link startFakeNextcloud}. */
  static async start(opts: FakeNextcloudOptions): Promise<FakeNextcloud> {
    const server = createServer();
    const host = opts.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port: opts.port ?? 0 }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    const urlHost = host.includes(':') ? `[${host}]` : host;
    return new FakeNextcloud(server, `http://${urlHost}:${port}/`, opts);
  }

  /**
   * Registers a user with a ticket (generated if absent) and returns the hello v1 params
   * `{userid, ticket}`. `user` becomes the `auth.user` data (default `{displayname: userid}`).
   */
  addUser(userid: string, opts: { ticket?: string; user?: Record<string, unknown> } = {}): { userid: string; ticket: string } {
    const ticket = opts.ticket ?? newTicket(userid);
    this.#users.set(userid, { ticket, ...(opts.user === undefined ? {} : { user: opts.user }) });
    this.#denied.delete(userid);
    return { userid, ticket };
  }

  /** Hello v1 params of a guest: empty userid and a ticket the fake accepts. */
  anonymousParams(): { userid: string; ticket: string } {
    const ticket = newTicket('');
    this.#anonymousTickets.add(ticket);
    return { userid: '', ticket };
  }

  /** From now on `auth` for `userid` answers with `error` (default: Talk's invalid_ticket). */
  denyUser(userid: string, error: TalkError = TalkErrors.invalidTicket): void {
    this.#denied.set(userid, error);
  }

  /** Creates or replaces a room. Rooms not set answer `no_such_room` (unless `open`). */
  setRoom(roomid: string, room: FakeRoom): void {
    this.#rooms.set(roomid, room);
  }

  /**
   * Replaces the advertised spreed `features` and/or the `config.signaling` object (each only if
   * given). A key published by {@link useHelloV2Keys} is added unless `signaling` sets
   * `hello-v2-token-key` itself.
   */
  setCapabilities(caps: { features?: string[]; signaling?: Record<string, unknown> }): void {
    if (caps.features !== undefined) this.#features = [...caps.features];
    if (caps.signaling !== undefined) this.#signalingConfig = { ...caps.signaling };
  }

  /** Generates a key pair and publishes its public key as `hello-v2-token-key`. */
  async useHelloV2Keys(alg: HelloV2Algorithm): Promise<void> {
    this.#helloV2Keys = generateHelloV2Keys(alg);
  }

  /** The published `hello-v2-token-key`, if {@link useHelloV2Keys} was called. */
  get helloV2PublicKey(): string | undefined {
    return this.#helloV2Keys?.published;
  }

  /**
   * A hello v2 token like Talk's `Config::getSignalingTicketV2`: `iss` = this.url, `iat` = now,
   * `exp` = iat + 60 s, and for users `sub` plus `userdata` (default `{displayname: userid}`).
   * Offsets shift the time claims; `notBeforeOffsetSec` adds an `nbf` claim.
   */
  async issueHelloV2Token(
    userid: string,
    opts: { userdata?: Record<string, unknown>; expiresInSec?: number; issuedAtOffsetSec?: number; notBeforeOffsetSec?: number } = {},
  ): Promise<string> {
    const keys = this.#helloV2Keys;
    if (keys === undefined) throw new Error('FakeNextcloud: call useHelloV2Keys() before issueHelloV2Token()');
    const now = Math.floor(Date.now() / 1000);
    const iat = now + (opts.issuedAtOffsetSec ?? 0);
    const claims: Record<string, unknown> = {};
    if (userid !== '') claims['userdata'] = opts.userdata ?? { displayname: userid };
    else if (opts.userdata !== undefined) claims['userdata'] = opts.userdata;
    const jwt = new SignJWT(claims)
      .setProtectedHeader({ alg: keys.alg, typ: 'JWT' })
      .setIssuer(this.url)
      .setIssuedAt(iat)
      .setExpirationTime(iat + (opts.expiresInSec ?? DEFAULT_TOKEN_LIFETIME_SEC));
    if (userid !== '') jwt.setSubject(userid);
    if (opts.notBeforeOffsetSec !== undefined) jwt.setNotBefore(now + opts.notBeforeOffsetSec);
    return jwt.sign(keys.privateKey);
  }

  /** Delays every answer to requests of `type` by `ms` (0 removes the delay). */
  setDelay(type: string, ms: number): void {
    if (ms > 0) this.#delays.set(type, ms);
    else this.#delays.delete(type);
  }

  /**
   * Makes the next request of `type` fail (calls queue up, one failure per request):
   * - `http500`: HTTP 500 with an HTML error page (`text/html`), as when Nextcloud's PHP fails
   *   before the OCS layer; the signaling server must not take it for a JSON answer;
   * - `garbage`: HTTP 200, JSON content type, body that is not JSON;
   * - `wrong-type`: a valid OCS envelope whose data has an unexpected `type`;
   * - `ocs-429`: HTTP 429 with OCS `meta.statuscode` 429 (brute-force throttling);
   * - `close`: the connection is destroyed without an answer.
   */
  failNext(type: string, how: FailureMode): void {
    const queue = this.#failures.get(type) ?? [];
    queue.push(how);
    this.#failures.set(type, queue);
  }

  /** Number of recorded requests of `type`. */
  count(type: string): number {
    return this.requests.filter((r) => r.type === type).length;
  }

  /** Forgets recorded requests. */
  clearRequests(): void {
    this.requests.length = 0;
  }

  /** First recorded (or future) request matching `predicate`. */
  waitForRequest(predicate: (r: RecordedRequest) => boolean, timeoutMs = 5_000): Promise<RecordedRequest> {
    const found = this.requests.find(predicate);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const onRequest = (r: RecordedRequest): void => {
        if (!predicate(r)) return;
        clearTimeout(timer);
        this.#events.off('request', onRequest);
        resolve(r);
      };
      const timer = setTimeout(() => {
        this.#events.off('request', onRequest);
        const seen = this.requests.map((r) => `${r.type} ${JSON.stringify(r.body)}`).join('\n  ');
        reject(new Error(`FakeNextcloud: timed out after ${timeoutMs} ms waiting for a request; received:\n  ${seen}`));
      }, timeoutMs);
      this.#events.on('request', onRequest);
    });
  }

  /**
   * Sends a backend API request to the signaling server like Talk's `BackendNotifier`:
   * `POST <signalingBaseUrl>api/v1/room/<roomid>` with Spreed-Signaling-Random/-Checksum (with
   * `opts.secret`, default this.secret), `Spreed-Signaling-Backend` (default this.url; an empty
   * string omits it), `Content-Type` (default application/json) and `OCS-APIRequest: true`.
   * A string body is sent as is.
   */
  async backendRequest(
    signalingBaseUrl: string,
    roomid: string,
    body: unknown,
    opts: { secret?: string; backendHeader?: string; contentType?: string } = {},
  ): Promise<{ status: number; headers: Headers; body: string }> {
    const base = signalingBaseUrl.endsWith('/') ? signalingBaseUrl : `${signalingBaseUrl}/`;
    const data = typeof body === 'string' ? body : JSON.stringify(body);
    const random = newRandom();
    const headers: Record<string, string> = {
      'Content-Type': opts.contentType ?? 'application/json',
      'OCS-APIRequest': 'true',
      [RANDOM_HEADER]: random,
      [CHECKSUM_HEADER]: checksum(random, data, opts.secret ?? this.secret),
    };
    const backend = opts.backendHeader ?? this.url;
    if (backend !== '') headers[BACKEND_HEADER] = backend;
    const res = await fetch(`${base}api/v1/room/${encodeURIComponent(roomid)}`, { method: 'POST', headers, body: data });
    return { status: res.status, headers: res.headers, body: await res.text() };
  }

  /** Stops listening and drops open connections. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      this.#dispatch(req, res, Buffer.concat(chunks)).catch((err: unknown) => {
        // A bug in the fake must show up in the test, not hang it.
        console.error('FakeNextcloud: handler failed', err);
        if (!res.headersSent) sendJson(res, 500, JSON.stringify({ error: String(err) }));
        else res.destroy();
      });
    });
  }

  async #dispatch(req: IncomingMessage, res: ServerResponse, raw: Buffer): Promise<void> {
    const path = req.url ?? '/';
    const pathname = path.split('?')[0] ?? '/';
    if (req.method === 'GET' && CAPABILITIES_PATH.test(pathname)) {
      this.#record({ path, type: 'capabilities', body: undefined, headers: req.headers, checksumValid: false, at: Date.now() });
      if (await this.#delayOrFail('capabilities', res)) return;
      sendJson(res, 200, ocsEnvelope(this.#capabilities()));
      return;
    }
    if (req.method !== 'POST' || !BACKEND_PATH.test(pathname)) {
      sendJson(res, 404, ocsEnvelope([], { status: 'failure', statuscode: 404, message: 'Not found' }));
      return;
    }

    const text = raw.toString('utf8');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    const type = typeof body === 'object' && body !== null && typeof (body as { type?: unknown }).type === 'string'
      ? (body as { type: string }).type
      : '';
    const checksumValid = talkValidates(header(req, RANDOM_HEADER), header(req, CHECKSUM_HEADER), raw, this.secret);
    this.#record({ path, type, body, headers: req.headers, checksumValid, at: Date.now() });
    if (await this.#delayOrFail(type, res)) return;

    if (!checksumValid) {
      sendJson(res, 200, ocsEnvelope({ type: 'error', error: TalkErrors.invalidRequest }));
      return;
    }
    sendJson(res, 200, ocsEnvelope(this.#answer(type, body)));
  }

  /** Applies a scripted delay, then a scripted failure; true when the response was handled. */
  async #delayOrFail(type: string, res: ServerResponse): Promise<boolean> {
    const delay = this.#delays.get(type);
    if (delay !== undefined) await new Promise((resolve) => setTimeout(resolve, delay));
    const how = this.#failures.get(type)?.shift();
    switch (how) {
      case undefined:
        return false;
      case 'http500': {
        const page = '<!DOCTYPE html>\n<html><head><title>Nextcloud</title></head><body><h2>Internal Server Error</h2></body></html>\n';
        res.writeHead(500, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(page) });
        res.end(page);
        return true;
      }
      case 'garbage':
        res.writeHead(200, { 'Content-Type': JSON_CONTENT_TYPE });
        res.end('<html>this is not JSON');
        return true;
      case 'wrong-type':
        sendJson(res, 200, ocsEnvelope({ type: 'unexpected', unexpected: { version: '1.0' } }));
        return true;
      case 'ocs-429':
        sendJson(res, 429, ocsEnvelope([], { status: 'failure', statuscode: 429, message: 'Reached maximum delay' }));
        return true;
      case 'close':
        res.socket?.destroy();
        return true;
    }
  }

  #answer(type: string, body: unknown): unknown {
    const message = body as Record<string, Record<string, unknown> | undefined>;
    switch (type) {
      case 'auth':
        return this.#auth(message['auth'] ?? {});
      case 'room':
        return this.#room(message['room'] ?? {});
      case 'ping':
        // Talk answers pings with a bare room object.
        return { type: 'room', room: { version: '1.0' } };
      case 'session':
        return { type: 'session', session: { version: '1.0', roomid: message['session']?.['roomid'] ?? '' } };
      default:
        return {
          type: 'error',
          error: { code: 'unknown_type', message: `The given type ${JSON.stringify(body)} is not supported.` },
        };
    }
  }

  #auth(auth: Record<string, unknown>): unknown {
    const params = (auth['params'] ?? {}) as Record<string, unknown>;
    const userid = typeof params['userid'] === 'string' ? params['userid'] : '';
    const ticket = typeof params['ticket'] === 'string' ? params['ticket'] : '';
    const denied = this.#denied.get(userid);
    if (denied !== undefined) return { type: 'error', error: denied };
    const entry = this.#users.get(userid);
    if (!this.#open) {
      const valid = userid === '' ? this.#anonymousTickets.has(ticket) : entry?.ticket === ticket;
      if (!valid) return { type: 'error', error: TalkErrors.invalidTicket };
    }
    if (userid === '') return { type: 'auth', auth: { version: '1.0' } };
    return { type: 'auth', auth: { version: '1.0', userid, user: entry?.user ?? { displayname: userid } } };
  }

  #room(request: Record<string, unknown>): unknown {
    const roomid = typeof request['roomid'] === 'string' ? request['roomid'] : '';
    const userid = typeof request['userid'] === 'string' ? request['userid'] : '';
    const room = this.#rooms.get(roomid) ?? (this.#open ? {} : undefined);
    if (room === undefined) return { type: 'error', error: TalkErrors.noSuchRoom };
    if (room.error !== undefined) return { type: 'error', error: room.error };
    if (room.allowedUsers !== undefined && !room.allowedUsers.includes(userid)) {
      return { type: 'error', error: TalkErrors.noSuchRoom };
    }
    return {
      type: 'room',
      room: {
        version: '1.0',
        roomid,
        properties: room.properties ?? defaultRoomProperties(roomid),
        ...(room.permissions === undefined ? {} : { permissions: room.permissions }),
        ...(room.sessionUserId === undefined ? {} : { session: { userid: room.sessionUserId } }),
      },
    };
  }

  #capabilities(): unknown {
    const signaling: Record<string, unknown> = {};
    if (this.#helloV2Keys !== undefined) signaling['hello-v2-token-key'] = this.#helloV2Keys.published;
    Object.assign(signaling, this.#signalingConfig);
    return {
      version: { major: 28, minor: 0, micro: 0, string: '28.0.0', edition: '', extendedSupport: false },
      capabilities: {
        spreed: {
          features: this.#features,
          config: { signaling },
        },
      },
    };
  }

  #record(request: RecordedRequest): void {
    this.requests.push(request);
    this.#events.emit('request', request);
  }
}

/** Starts a {@link FakeNextcloud} listening on `opts.host`:`opts.port` (default 127.0.0.1, any port). */
export function startFakeNextcloud(opts: FakeNextcloudOptions): Promise<FakeNextcloud> {
  return FakeNextcloud.start(opts);
}

/** Per-process secret for the tickets below (Talk keeps one per user in its config). */
const TICKET_SECRET = randomBytes(32);

/**
 * A ticket in Talk's v1 format `random:timestamp:userid:checksum` (`Config::getSignalingTicketV1`,
 * checksum = HMAC-SHA256 of the rest). The fake compares tickets as opaque strings; the format
 * only makes them look like the real thing in logs.
 */
function newTicket(userid: string): string {
  const data = `${randomBytes(8).toString('hex')}:${Math.floor(Date.now() / 1000)}:${userid}`;
  return `${data}:${createHmac('sha256', TICKET_SECRET).update(data).digest('hex')}`;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
