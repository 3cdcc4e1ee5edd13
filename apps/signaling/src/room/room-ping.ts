import { Backoff, type Logger } from '@talk-signaling/runtime';
import { BackendRequestError } from '../backend/backend-client';
import type { Backend } from '../backend/backend';

/** Rooms ping their members to Nextcloud every 10 s (upstream `updateActiveSessionsInterval`). */
export const ROOM_PING_INTERVAL_MS = 10_000;

/**
 * After Nextcloud answered 429, pings to that URL pause for this many rounds, doubling per
 * further 429 up to {@link MAX_BACKOFF_ROUNDS}, and resume normally after the first success.
 *
 * Why: an OCS 429 is Nextcloud's brute-force protection ("Reached maximum delay"); while it is
 * active every request from this server is refused without being processed, and the attempts
 * behind it are kept for hours, so retrying every round only adds load. Why this bound: Talk
 * marks sessions inactive after 30 s without a ping and removes them after 100 s
 * (`Session::SESSION_TIMEOUT`, `SESSION_TIMEOUT_KILL = 3 * 30 + 10`); with at most 6 rounds
 * (60 s) skipped, pings resume within ~70 s of Nextcloud accepting requests again. Upstream
 * (v2.1.1) only logs the error and keeps pinging.
 */
export const INITIAL_BACKOFF_ROUNDS = 2;
/** Upper bound of the ping back-off, in rounds (see {@link INITIAL_BACKOFF_ROUNDS}). */
export const MAX_BACKOFF_ROUNDS = 6;

/** One session in a ping request (upstream `BackendPingEntry`; `userid` omitted when empty). */
export interface PingEntry {
  userid?: string;
  sessionid: string;
}

/** The `ping` backend request of fact sheet 3.3.3. */
export interface PingRequest {
  type: 'ping';
  ping: { version: '1.0'; roomid: string; entries: PingEntry[] };
}

/** What {@link RoomPing} reads from a room member (satisfied by `ClientSession`). */
export interface PingSession {
  readonly publicId: string;
  /** `client`, `internal` or `virtual`; internal sessions are not pinged. */
  readonly clientType: string;
  /** Nextcloud's room session id; client sessions without one are not pinged. */
  readonly roomSessionId: string | undefined;
  /** Authenticated user id (virtual sessions: the user id given by their owner). */
  readonly userId: string;
  /** URL for `room`/`ping` requests (fact sheet 3.2). */
  readonly backendUrl: string;
  readonly backend: Backend;
}

/** What {@link RoomPing} reads from a room (satisfied by `Room`). */
export interface PingRoom {
  /** Nextcloud's room id (token). */
  readonly id: string;
  members(): Iterable<PingSession>;
}

export interface RoomPingOptions {
  /** The rooms of this node (satisfied by `RoomRegistry`). */
  rooms: { all(): Iterable<PingRoom> };
  /** Sends checksummed backend requests (satisfied by `BackendClient`). */
  client: { postJson(url: string, backend: Backend, body: unknown): Promise<unknown> };
  /** Nextcloud's `session-ping-limit` per backend URL (satisfied by `Capabilities`). */
  capabilities: { sessionPingLimit(url: string): Promise<number | undefined> };
  log: Logger;
  /** Ping round interval in ms; default {@link ROOM_PING_INTERVAL_MS}. */
  intervalMs?: number;
}

/** The entries of one round for one backend URL, by room id. */
export interface UrlEntries {
  url: string;
  /** Backend of the first session seen with this URL (same URL → same backend). */
  backend: Backend;
  rooms: Map<string, PingEntry[]>;
}

/** Back-off state of one backend URL after a 429 (counted in rounds, not wall time). */
interface Throttle {
  /** Yields the number of rounds to pause. */
  backoff: Backoff;
  /** First round in which the URL is pinged again (a probe). */
  resumeRound: number;
}

/**
 * Keeps Nextcloud's view of who is in which room alive (fact sheet 3.3.3, upstream
 * `room_ping.go` and `Room.publishActiveSessions`). Every round it collects, per room, one
 * entry per pingable member, grouped by the member's backend URL, and then per URL:
 *
 * - if the URL's capabilities set a positive `session-ping-limit`: one combined request with
 *   `roomid: ""` per `limit` entries across all rooms, sent one after the other;
 * - otherwise: one request per room, concurrently.
 *
 * Upstream queues the entries of each room's own 10 s ticker and sends the combined requests
 * from a global 10 s ticker; here a single ticker collects all rooms and sends right away, which
 * yields the same requests without the up to 10 s of queueing delay (and without stale entries
 * of rooms deleted meanwhile, which upstream removes via `DeleteRoom`).
 *
 * Answers are not used: Talk's `backendPing` updates `last_ping` of the listed session ids that
 * exist, ignores the others, and always answers `{"type":"room","room":{"version":"1.0"}}`, so
 * there is no "unknown session" signal (upstream ignores the answer as well). Failures are
 * logged; a 429 pauses pings to that URL (see {@link INITIAL_BACKOFF_ROUNDS}).
 */
export class RoomPing {
  readonly #opts: RoomPingOptions;
  readonly #log: Logger;
  readonly #intervalMs: number;
  /** Number of the current (or last) round; rounds count from 1. */
  #round = 0;
  /** URLs currently throttled by Nextcloud; removed after the first successful request. */
  readonly #throttled = new Map<string, Throttle>();
  /** URLs whose previous round is still being sent; such a URL skips the next round. */
  readonly #busy = new Set<string>();
  /** Set while started. */
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(opts: RoomPingOptions) {
    this.#opts = opts;
    this.#log = opts.log;
    this.#intervalMs = opts.intervalMs ?? ROOM_PING_INTERVAL_MS;
  }

  /** Starts the round timer (unref'd: it never keeps the process alive). Idempotent. */
  start(): void {
    if (this.#timer !== undefined || this.#stopped) return;
    this.#timer = setInterval(() => void this.tick(), this.#intervalMs);
    this.#timer.unref();
  }

  /** Stops the round timer; requests already sent are left to finish. */
  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Whether the round after the current one skips `url` because Nextcloud answered 429. */
  isThrottled(url: string): boolean {
    const throttle = this.#throttled.get(url);
    return throttle !== undefined && throttle.resumeRound > this.#round + 1;
  }

  /**
   * One round (the timer calls this every interval; tests call it directly): collect every
   * room's entries and send them. Resolves when all requests of the round settled.
   */
  async tick(): Promise<void> {
    const round = ++this.#round;
    const groups = this.collect();
    await Promise.all([...groups.values()].map((group) => this.#sendUrl(group, round)));
  }

  /** The entries of all rooms right now, grouped by backend URL; rooms without entries are left out. */
  collect(): Map<string, UrlEntries> {
    const groups = new Map<string, UrlEntries>();
    for (const room of this.#opts.rooms.all()) {
      for (const session of room.members()) {
        const entry = pingEntry(session);
        if (entry === undefined || session.backendUrl === '') continue;
        let group = groups.get(session.backendUrl);
        if (group === undefined) {
          group = { url: session.backendUrl, backend: session.backend, rooms: new Map() };
          groups.set(session.backendUrl, group);
        }
        const entries = group.rooms.get(room.id);
        if (entries === undefined) group.rooms.set(room.id, [entry]);
        else entries.push(entry);
      }
    }
    return groups;
  }

  async #sendUrl(group: UrlEntries, round: number): Promise<void> {
    const { url } = group;
    const throttle = this.#throttled.get(url);
    if (throttle !== undefined && throttle.resumeRound > round) {
      this.#log.debug({ url }, 'skipping room pings, Nextcloud is throttling');
      return;
    }
    if (this.#busy.has(url)) {
      this.#log.warn({ url }, 'previous room pings still running, skipping this round');
      return;
    }
    this.#busy.add(url);
    try {
      const limit = await this.#opts.capabilities.sessionPingLimit(url);
      if (limit === undefined) {
        await Promise.all([...group.rooms].map(([roomId, entries]) => this.#send(group, round, roomId, entries)));
      } else {
        const all = [...group.rooms.values()].flat();
        for (let i = 0; i < all.length; i += limit) {
          // Stop at the first failure caused by throttling: the rest would be refused too.
          if (!(await this.#send(group, round, '', all.slice(i, i + limit)))) break;
        }
      }
    } finally {
      this.#busy.delete(url);
    }
  }

  /** Sends one request; false when Nextcloud answered 429. */
  async #send(group: UrlEntries, round: number, roomid: string, entries: PingEntry[]): Promise<boolean> {
    const body: PingRequest = { type: 'ping', ping: { version: '1.0', roomid, entries } };
    try {
      const answer = await this.#opts.client.postJson(group.url, group.backend, body);
      if (isErrorAnswer(answer)) this.#log.warn({ url: group.url, roomid, error: answer.error }, 'Nextcloud rejected room ping');
      this.#succeeded(group.url);
      return true;
    } catch (err) {
      if (err instanceof BackendRequestError && err.throttled) {
        this.#throttle(group.url, round);
        return false;
      }
      this.#log.warn({ url: group.url, roomid, entries: entries.length, err: (err as Error).message }, 'could not ping room sessions');
      return true;
    }
  }

  /** Nextcloud answered 429 to a request of `round`: pause the URL (once per round). */
  #throttle(url: string, round: number): void {
    let throttle = this.#throttled.get(url);
    if (throttle === undefined) {
      throttle = { backoff: new Backoff({ initial: INITIAL_BACKOFF_ROUNDS, max: MAX_BACKOFF_ROUNDS }), resumeRound: 0 };
      this.#throttled.set(url, throttle);
    }
    // Several requests of one round (rooms, chunks) may all answer 429: that is one back-off step.
    if (throttle.resumeRound > round) return;
    const rounds = throttle.backoff.next();
    throttle.resumeRound = round + rounds;
    this.#log.warn({ url, pauseMs: rounds * this.#intervalMs }, 'Nextcloud throttled room pings (OCS 429), pausing them');
  }

  #succeeded(url: string): void {
    if (this.#throttled.delete(url)) this.#log.info({ url }, 'Nextcloud accepts room pings again');
  }
}

/**
 * The ping entry of a room member, or undefined when it is not pinged: client sessions use
 * Nextcloud's room session id and the authenticated user id; virtual sessions their public id
 * (Nextcloud knows them by it, fact sheet 1.12.5) and their user id; internal sessions none.
 */
export function pingEntry(session: PingSession): PingEntry | undefined {
  let sessionid: string | undefined;
  switch (session.clientType) {
    case 'client':
    case 'federation':
      sessionid = session.roomSessionId;
      break;
    case 'virtual':
      sessionid = session.publicId;
      break;
    default:
      return undefined;
  }
  if (!sessionid) return undefined;
  return session.userId ? { userid: session.userId, sessionid } : { sessionid };
}

function isErrorAnswer(answer: unknown): answer is { type: 'error'; error: unknown } {
  return typeof answer === 'object' && answer !== null && (answer as { type?: unknown }).type === 'error';
}
