import {
  Permission,
  signalingError,
  type ControlClientMessage,
  type MessageClientMessage,
  type MessageClientPayload,
} from '@talk-signaling/protocol';
import type { McuHandler } from '../mcu/mcu-handler';
import type { ClientSession } from '../session/client-session';
import { VirtualSession } from '../session/virtual-session';
import type { Hub } from '../hub/hub';
import type { Router } from '../delivery/router';
import { errorFrame } from '../delivery/server-frames';
import type { SessionRegistry } from '../hub/session-registry';

/**
 * Client-to-client `message` and `control` (1.8, 1.10): routed to one session, all sessions of
 * a user, or the sender's room, always within the sender's backend. `data` is forwarded as the
 * very value received, never copied or re-validated.
 */
export class MessageHandler {
  readonly #router: Router;
  readonly #sessions: SessionRegistry;
  readonly #mcu: Pick<McuHandler, 'message'> | undefined;

  /** `mcu`: MCU signalling inside `message` data (1.9), when `[mcu]` is configured. */
  constructor(deps: { hub: Hub; router: Router; sessions: SessionRegistry; mcu: Pick<McuHandler, 'message'> | undefined }) {
    this.#router = deps.router;
    this.#sessions = deps.sessions;
    this.#mcu = deps.mcu;
    deps.hub.handle('message', (s, m) => this.#route(s, 'message', (m as MessageClientMessage).message, m.id));
    deps.hub.handle('control', (s, m) => {
      // Only internal clients and holders of `control` may steer others; the rest is ignored.
      if (s.clientType !== 'internal' && !s.hasPermission(Permission.Control)) return;
      this.#route(s, 'control', (m as ControlClientMessage).control, m.id);
    });
  }

  #route(sender: ClientSession, type: 'message' | 'control', payload: MessageClientPayload, id: string | undefined): void {
    if (type === 'message' && this.#mcu?.message(sender, payload, id)) return;
    const recipient = payload.recipient;
    const from: { type: string; sessionid: string; userid?: string } = { type: recipient.type, sessionid: sender.publicId };
    const userId = sender.effectiveUserId;
    if (userId) from.userid = userId;
    switch (recipient.type) {
      case 'session': {
        const target = this.#sessions.byPublicId(recipient.sessionid);
        if (target === sender) return;
        if (target && target.backend.id !== sender.backend.id) return; // never across backends
        // A sender that just joined a room is announced to it before this reaches anyone.
        sender.room?.flushJoinOf?.(sender);
        const body: Record<string, unknown> = { sender: from };
        if (target instanceof VirtualSession) {
          // The owning internal client gets it, addressed with the id it chose (1.8/1.10).
          body['recipient'] = target.ownerRecipient(false);
          body['data'] = payload.data;
          this.#router.toSession(target.owner.publicId, { type, [type]: body });
          return;
        }
        // Via the bus to another node the receiver learns whom it was addressed to.
        if (!target) body['recipient'] = recipient;
        body['data'] = payload.data;
        if (target) this.#router.toLocalSession(target, { type, [type]: body });
        else this.#router.toSession(recipient.sessionid, { type, [type]: body });
        return;
      }
      case 'user':
        if (recipient.userid === sender.userId) return;
        this.#router.toUser(recipient.userid, sender.backend.id, { type, [type]: { sender: from, data: payload.data } });
        return;
      // `call` (feature `recipient-call`): the room's subject; receivers not in the call drop it.
      case 'call':
      case 'room': {
        const room = sender.room;
        if (!room) return;
        // Receivers learn of a member who just joined before its room messages, as upstream.
        room.flushEvents?.();
        this.#router.toRoom(room.id, room.backendId, { type, [type]: { sender: from, data: payload.data } });
        return;
      }
      default:
        this.#router.send(sender, errorFrame(id, signalingError('invalid_format')));
    }
  }
}
