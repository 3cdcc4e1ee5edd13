import { randomBytes } from 'node:crypto';
import {
  ALTERNATIVE_ERROR_MESSAGES,
  ClientFeature,
  DialoutStatus,
  dialoutErrorResponse,
  dialoutSuccessResponse,
  SignalingError,
  signalingError,
  type BackendRoomDialout,
  type BackendRoomDialoutResponse,
  type DialoutClientPayload,
  type InternalClientMessage,
} from '@talk-signaling/protocol';
import type { Logger } from '@talk-signaling/runtime';
import { normaliseBaseUrl, type Backend } from '../backend/backend';
import type { ClientSession } from '../session/client-session';
import type { Router } from '../delivery/router';
import { serverFrame } from '../delivery/server-frames';
import type { Hub, SessionListener } from '../hub/hub';

/** How long the internal client has to answer a dialout request (upstream `startDialout`: 10 s). */
export const DIALOUT_START_TIMEOUT_MS = 10_000;

/** HTTP status and body of the backend API answer to a `dialout` request (fact sheet 2.3.10). */
export interface DialoutResult {
  status: number;
  body: BackendRoomDialoutResponse;
}

/** Room ids Nextcloud sends for dialout are numeric (upstream `isNumeric`). */
const NUMERIC = /^\d+$/;

interface PendingRequest {
  session: ClientSession;
  resolve: (reply: DialoutClientPayload | undefined) => void;
}

/**
 * The internal side of dialout (fact sheet 1.12.6 / 2.3.10): which internal clients can place
 * phone calls, sending them the request and waiting for the reply with the same id.
 *
 * Candidates are internal sessions that announced `start-dialout`, belong to the request's
 * backend, have a socket attached and are not in a room. With several (upstream >= 2.0.4) they
 * are tried one after the other, starting round-robin so calls spread over the bridges; the
 * first success wins, otherwise the first failure is returned.
 */
export class DialoutRegistry implements SessionListener {
  /** Internal sessions with `start-dialout`, in hello order. */
  readonly #capable = new Set<ClientSession>();
  /** Request id -> the waiting `start` call. */
  readonly #pending = new Map<string, PendingRequest>();
  readonly #log: Logger;
  readonly #timeoutMs: number;
  /** Round-robin start position over the candidate list. */
  #next = 0;

  readonly #router: Router;

  constructor(deps: { hub: Hub; router: Router; log: Logger; timeoutMs?: number }) {
    this.#router = deps.router;
    this.#log = deps.log;
    this.#timeoutMs = deps.timeoutMs ?? DIALOUT_START_TIMEOUT_MS;
    deps.hub.addListener(this);
  }

  sessionCreated(session: ClientSession): void {
    if (session.clientType === 'internal' && session.features.has(ClientFeature.StartDialout)) this.#capable.add(session);
  }

  sessionClosed(session: ClientSession): void {
    this.#capable.delete(session);
    // Nobody will answer now: the waiting request can move on to the next candidate at once.
    for (const [id, pending] of this.#pending) {
      if (pending.session !== session) continue;
      this.#pending.delete(id);
      pending.resolve(undefined);
    }
  }

  /** The sessions that could place a call for `backend` right now, in the order they are tried. */
  candidates(backend: Backend): ClientSession[] {
    const found: ClientSession[] = [];
    for (const session of this.#capable) {
      if (session.closed || session.backend.id !== backend.id || session.room !== undefined) continue;
      if (!session.connection || session.connection.closed) continue;
      found.push(session);
    }
    if (found.length < 2) return found;
    const start = this.#next++ % found.length;
    return [...found.slice(start), ...found.slice(0, start)];
  }

  /**
   * Offers an `internal` message of an internal client to the request waiting for it (same
   * `id`). Returns true if the message is consumed: only error replies are; a `status` reply
   * also goes on to the normal dialout handling (it sets the call status), as upstream does.
   */
  offerResponse(session: ClientSession, message: InternalClientMessage): boolean {
    const id = message.id;
    if (id === undefined || message.internal.type !== 'dialout') return false;
    const pending = this.#pending.get(id);
    if (!pending || pending.session !== session) return false;
    this.#pending.delete(id);
    const reply = message.internal.dialout;
    pending.resolve(reply);
    return reply.error !== undefined;
  }

  /**
   * Asks an internal client to call `request.number` into room `roomId` and waits for its answer.
   * `backendHeaderUrl` is the request's `Spreed-Signaling-Backend` header (the URL announced to
   * the client for compat backends). Never rejects: every outcome is an HTTP status and body.
   */
  async start(backend: Backend, roomId: string, request: BackendRoomDialout, backendHeaderUrl: string | undefined): Promise<DialoutResult> {
    if (!NUMERIC.test(roomId)) return failure(400, signalingError('invalid_roomid'));
    const candidates = this.candidates(backend);
    if (candidates.length === 0) return failure(404, signalingError('no_client_available'));
    const backendUrl = announcedBackendUrl(backend, backendHeaderUrl);
    let first: DialoutResult | undefined;
    for (const session of candidates) {
      const result = await this.#startIn(session, roomId, backendUrl, request);
      if (result.status === 200) return result;
      session.log.warn({ room: roomId, status: result.status, body: result.body }, 'dialout failed');
      first ??= result;
    }
    return first!;
  }

  /** One attempt with one internal client. */
  #startIn(session: ClientSession, roomId: string, backendUrl: string, request: BackendRoomDialout): Promise<DialoutResult> {
    if (session.closed || !session.connection) return Promise.resolve(failure(502, signalingError('error_notify')));
    const id = randomBytes(16).toString('hex');
    const dialout: Record<string, unknown> = { number: request.number };
    if (request.options !== undefined) dialout['options'] = request.options;
    return new Promise<DialoutResult>((resolve) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        resolve(failure(504, signalingError('timeout')));
      }, this.#timeoutMs);
      timer.unref();
      this.#pending.set(id, {
        session,
        resolve: (reply) => {
          clearTimeout(timer);
          resolve(outcome(reply));
        },
      });
      this.#router.send(session, serverFrame(id, 'internal', { type: 'dialout', dialout: { roomid: roomId, backend: backendUrl, request: dialout } }));
      this.#log.debug({ session: session.publicId, room: roomId, id }, 'dialout requested');
    });
  }
}

/** The reply of the internal client as the backend API answer. */
function outcome(reply: DialoutClientPayload | undefined): DialoutResult {
  if (reply === undefined) return failure(502, new SignalingError('error_notify', ALTERNATIVE_ERROR_MESSAGES.noDialoutResponse));
  switch (reply.type) {
    case 'error':
      return failure(502, SignalingError.fromPayload(reply.error!));
    case 'status':
      if (reply.status?.status !== DialoutStatus.Accepted) return failure(502, signalingError('unsupported_status'));
      return { status: 200, body: dialoutSuccessResponse(reply.status.callid) };
    default:
      return failure(502, signalingError('unsupported_type'));
  }
}

function failure(status: number, error: SignalingError): DialoutResult {
  return { status, body: dialoutErrorResponse(error) };
}

/**
 * The `backend` URL sent to the internal client: the configured URL (the one the request came
 * from when the backend has several), or for the compat backend the request's header URL.
 */
function announcedBackendUrl(backend: Backend, header: string | undefined): string {
  let fromHeader: string | undefined;
  if (header) {
    try {
      fromHeader = normaliseBaseUrl(header);
    } catch {
      fromHeader = header.endsWith('/') ? header : `${header}/`;
    }
  }
  if (backend.urls.length === 0) return fromHeader ?? '';
  if (fromHeader !== undefined && backend.urls.includes(fromHeader)) return fromHeader;
  return backend.urls[0]!;
}
