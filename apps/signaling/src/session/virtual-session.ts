import type { AddSessionOptions } from '@talk-signaling/protocol';
import type { Logger } from '@talk-signaling/runtime';
import { ClientSession, type Frame } from './client-session';
import type { SessionIdData } from './session-id-codec';

/** What an internal client's `addsession` fixes about a virtual session (fact sheet 1.12.1). */
export interface VirtualSessionInit {
  /** The internal session that created it and receives everything addressed to it. */
  owner: ClientSession;
  privateId: string;
  publicId: string;
  idData: SessionIdData;
  /** The id the internal client chose (`addsession.sessionid`). */
  clientSessionId: string;
  userId: string;
  user: unknown;
  /** Initial in-call flags (already defaulted by the caller). */
  inCall: number;
  flags: number;
  /** Actor fields: present ⇒ Nextcloud is told with `room` requests instead of `session` ones. */
  options: AddSessionOptions | undefined;
  log: Logger;
}

/**
 * A participant an internal client (SIP bridge) brings into a room, e.g. a phone caller. It has
 * no socket: room events addressed to it are dropped, and `message`/`control` sent to it are
 * delivered to its owner with the client-chosen id as recipient (1.8). It has every permission,
 * does not count towards session limits, and ends when removed or when its owner ends (1.12.5).
 */
export class VirtualSession extends ClientSession {
  readonly owner: ClientSession;
  readonly clientSessionId: string;
  readonly options: AddSessionOptions | undefined;
  /** Virtual-session flags (`VirtualSessionFlag`: muted speaking/listening, talking). */
  flags: number;

  constructor(init: VirtualSessionInit) {
    const owner = init.owner;
    super({
      privateId: init.privateId,
      publicId: init.publicId,
      idData: init.idData,
      backend: owner.backend,
      backendUrl: owner.backendUrl,
      clientType: 'virtual',
      userId: init.userId,
      user: init.user,
      helloVersion: owner.helloVersion,
      features: [],
      log: init.log,
    });
    this.owner = owner;
    this.clientSessionId = init.clientSessionId;
    this.options = init.options;
    this.flags = init.flags;
    this.inCall = Math.max(0, init.inCall);
  }

  /** Key of the owner's virtual sessions (fact sheet 4.3): `<owner public id>|<client id>`. */
  get key(): string {
    return virtualSessionKey(this.owner, this.clientSessionId);
  }

  /**
   * The recipient its owner sees for messages to it: the id the owner chose. `withUser` adds the
   * user id (upstream does for deliveries through the bus and for server hangups, not for local
   * deliveries).
   */
  ownerRecipient(withUser: boolean): { type: 'session'; sessionid: string; userid?: string } {
    const recipient: { type: 'session'; sessionid: string; userid?: string } = { type: 'session', sessionid: this.clientSessionId };
    if (withUser && this.userId) recipient.userid = this.userId;
    return recipient;
  }

  /** No socket: what the room sends to its members does not reach anyone through here. */
  override send(_text: Frame, _chatRefresh?: boolean): void {
    // Intentionally empty; messages for the virtual session are rerouted to the owner upstream of this.
  }

  /** Virtual sessions have all permissions (upstream `VirtualSession.HasPermission`). */
  override hasPermission(_permission: string): boolean {
    return true;
  }

  /** Sets the in-call flags (negative ⇒ 0); true if they changed. */
  setInCall(inCall: number): boolean {
    const next = Math.max(0, inCall);
    if (next === this.inCall) return false;
    this.inCall = next;
    return true;
  }

  /** Sets the virtual-session flags; true if they changed. */
  setFlags(flags: number): boolean {
    if (flags === this.flags) return false;
    this.flags = flags;
    return true;
  }
}

/** `<owner public id>|<client-chosen id>` (upstream `GetVirtualSessionId`). */
export function virtualSessionKey(owner: ClientSession, clientSessionId: string): string {
  return `${owner.publicId}|${clientSessionId}`;
}
