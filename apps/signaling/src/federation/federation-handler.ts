import { SignalingError, signalingError, type ClientMessage, type RoomClientMessage } from '@talk-signaling/protocol';
import type { Registry } from 'prom-client';
import type { Logger } from '@talk-signaling/runtime';
import type { Router } from '../delivery/router';
import { errorFrame } from '../delivery/server-frames';
import type { CloseReason, Hub, SessionListener } from '../hub/hub';
import type { RoomFederationHook } from '../room/room-handler';
import type { PingRoom, PingSession } from '../room/room-ping';
import type { ClientSession } from '../session/client-session';
import { createFederationMetrics, type FederationBudget, type FederationMetrics } from './federation-budget';
import { FederationClient, FederationConnectError } from './federation-client';

/** `[federation]` settings (config section of the same name). */
export interface FederationSettings {
  skipverify: boolean;
  /** Seconds. */
  timeout: number;
  /** Our addition: remote signaling hosts (`host` or `host:port`) we may connect to; empty = any. */
  allowedhosts: readonly string[];
}

export interface FederationHandlerDeps {
  hub: Hub;
  router: Router;
  settings: FederationSettings;
  /** Takes a session out of its local room (and tells its Nextcloud), as a local leave does. */
  leaveLocalRoom: (session: ClientSession) => void;
  log: Logger;
  /** Reconnect back-off of the clients (tests shorten it). */
  reconnect?: { initialMs: number; maxMs: number };
  /** Bounds per connection (default `DEFAULT_FEDERATION_BUDGET`). */
  budget?: Readonly<FederationBudget>;
  /** Where the dropped/cut-off counters go. */
  registry?: Registry;
}

/**
 * Local sessions in rooms of other signaling servers (section 9, feature `federation`): the
 * `room` join with `federation` opens a {@link FederationClient}, every later message of the
 * session (except hello, bye and room) is relayed through it, and leaving, bye or expiry
 * closes it. Federated sessions are pinged to their local Nextcloud via {@link pingRooms}.
 */
export class FederationHandler implements SessionListener, RoomFederationHook {
  readonly #deps: FederationHandlerDeps;
  readonly #clients = new Map<ClientSession, FederationClient>();
  /** Latest federated join per session; an older connection attempt finishing late loses. */
  readonly #seq = new Map<ClientSession, number>();

  readonly #metrics: FederationMetrics | undefined;

  constructor(deps: FederationHandlerDeps) {
    this.#deps = deps;
    this.#metrics = deps.registry === undefined ? undefined : createFederationMetrics(deps.registry);
    deps.hub.addListener(this);
    deps.hub.intercept((session, message) => this.intercept(session, message));
  }

  get size(): number {
    return this.#clients.size;
  }

  client(session: ClientSession): FederationClient | undefined {
    return this.#clients.get(session);
  }

  room(session: ClientSession, message: RoomClientMessage): boolean {
    this.#seq.set(session, (this.#seq.get(session) ?? 0) + 1);
    if (message.room.federation !== undefined) {
      void this.#join(session, message);
      return true;
    }
    const client = this.#clients.get(session);
    if (client === undefined || message.room.roomid !== '') return false;
    this.#clients.delete(session);
    client.leave(message);
    return true;
  }

  leave(session: ClientSession): void {
    const client = this.#clients.get(session);
    if (client === undefined) return;
    this.#clients.delete(session);
    client.close();
  }

  isFederated(session: ClientSession): boolean {
    return this.#clients.has(session);
  }

  /** Relays a message of a federated session; true when it was taken (hub interceptor). */
  intercept(session: ClientSession, message: ClientMessage): boolean {
    if (message.type === 'room') return false;
    const client = this.#clients.get(session);
    if (client === undefined) return false;
    client.proxy(message);
    return true;
  }

  sessionClosed(session: ClientSession, _reason: CloseReason): void {
    this.#seq.delete(session);
    this.leave(session);
  }

  /**
   * Federated sessions as ping rooms: each is pinged to its own (local) Nextcloud under the
   * local room id with the Nextcloud session id it joined with (upstream `publishFederatedSessions`).
   */
  pingRooms(): PingRoom[] {
    const rooms: PingRoom[] = [];
    for (const [session, client] of this.#clients) {
      const roomSessionId = client.roomSessionId;
      if (!roomSessionId) continue;
      const member: PingSession = {
        publicId: session.publicId,
        clientType: 'client',
        roomSessionId,
        userId: session.userId,
        backendUrl: session.backendUrl,
        backend: session.backend,
      };
      rooms.push({ id: client.roomId, members: () => [member] });
    }
    return rooms;
  }

  /** Closes every federation connection (server shutdown). */
  closeAll(): void {
    for (const session of [...this.#clients.keys()]) this.leave(session);
  }

  async #join(session: ClientSession, message: RoomClientMessage): Promise<void> {
    const federation = message.room.federation!;
    const seq = this.#seq.get(session);
    const reply = (error: SignalingError): void => this.#deps.router.send(session, errorFrame(message.id, error));
    const refused = this.#checkAllowed(federation.signaling);
    if (refused !== undefined) {
      session.log.info({ signaling: federation.signaling }, 'federation target not in [federation] allowedhosts');
      reply(signalingError('federation_error', refused));
      return;
    }

    const current = this.#clients.get(session);
    if (current?.canReuse(federation)) {
      current.changeRoom(message);
      return;
    }
    const client: FederationClient = new FederationClient({
      session,
      router: this.#deps.router,
      message,
      timeoutMs: this.#deps.settings.timeout * 1000,
      skipVerify: this.#deps.settings.skipverify,
      log: this.#deps.log,
      reconnect: this.#deps.reconnect,
      budget: this.#deps.budget,
      metrics: this.#metrics,
      onClosed: (c) => {
        if (this.#clients.get(session) === c) this.#clients.delete(session);
      },
    });
    try {
      await client.start();
    } catch (err) {
      client.close();
      if (session.closed || this.#seq.get(session) !== seq) return;
      session.log.info({ signaling: federation.signaling, err: (err as Error).message }, 'could not connect to the federation target');
      if (err instanceof SignalingError) reply(err);
      else if (err instanceof FederationConnectError) reply(signalingError('federation_error', err.details));
      else reply(signalingError('federation_error'));
      return;
    }
    if (session.closed || this.#seq.get(session) !== seq) {
      client.close();
      return;
    }
    const previous = this.#clients.get(session);
    this.#clients.set(session, client);
    previous?.close();
    // Any local room is left when a federated one is joined.
    this.#deps.leaveLocalRoom(session);
  }

  /** `details` of the refusal when `[federation] allowedhosts` is set and does not list the target. */
  #checkAllowed(signaling: string): { code: string; message: string } | undefined {
    const allowed = this.#deps.settings.allowedhosts;
    if (allowed.length === 0) return undefined;
    let url: URL;
    try {
      url = new URL(signaling);
    } catch {
      return { code: 'invalid_url', message: 'Invalid signaling URL.' };
    }
    const host = url.host.toLowerCase();
    const hostname = url.hostname.toLowerCase();
    if (allowed.some((entry) => entry.toLowerCase() === host || entry.toLowerCase() === hostname)) return undefined;
    return { code: 'host_not_allowed', message: `Federation to ${url.host} is not allowed.` };
  }
}
