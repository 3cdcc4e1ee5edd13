import { NOT_ALLOWED_MESSAGES, Permission, SignalingError, signalingError, type TransientClientMessage } from '@talk-signaling/protocol';
import type { Room } from './room';
import type { ClientSession } from '../session/client-session';
import type { Hub } from '../hub/hub';
import type { Router } from '../delivery/router';
import { errorFrame } from '../delivery/server-frames';

/**
 * Client `transient` requests (fact sheet 1.11, upstream `Hub.processTransientMsg`): set and
 * remove keys of the room's transient data. The room notifies its members; this only checks
 * that the sender is in a room and may write.
 *
 * Order of checks as upstream: room first (`not_in_room`), then the type (`ignored`), with the
 * permission checked only for `set`/`remove`. A missing key never gets here: the parser already
 * answered `invalid_format`.
 */
export class TransientHandler {
  readonly #router: Router;

  constructor(deps: { hub: Hub; router: Router }) {
    this.#router = deps.router;
    deps.hub.handle('transient', (session, message) => this.#onTransient(session, message as TransientClientMessage));
  }

  #onTransient(session: ClientSession, message: TransientClientMessage): void {
    const room = session.room as Room | undefined;
    if (!room) {
      this.#reply(session, message, signalingError('not_in_room'));
      return;
    }
    const { type, key, value, ttl } = message.transient;
    if (type !== 'set' && type !== 'remove') {
      this.#reply(session, message, signalingError('ignored'));
      return;
    }
    if (!mayUpdateTransientData(session)) {
      this.#reply(session, message, new SignalingError('not_allowed', NOT_ALLOWED_MESSAGES.transientData));
      return;
    }
    if (!mayUpdateTransientKey(session, key!)) {
      this.#reply(session, message, new SignalingError('not_allowed', NOT_ALLOWED_ENTRY));
      return;
    }
    if (type === 'remove') {
      room.removeTransient(key!);
      return;
    }
    if (room.setTransient(key!, value, ttl) === 'full') {
      this.#reply(session, message, new SignalingError('not_allowed', TRANSIENT_DATA_FULL));
    }
  }

  #reply(session: ClientSession, message: TransientClientMessage, error: SignalingError): void {
    this.#router.send(session, errorFrame(message.id, error));
  }
}

/** Keys `sd:<public session id>` hold one session's own data (feature `transient-sessiondata`). */
export const SESSION_DATA_PREFIX = 'sd:';
const NOT_ALLOWED_ENTRY = 'Not allowed to update this transient data entry.';
/** Ours (upstream has no bound): the room's transient data is at its byte bound. */
const TRANSIENT_DATA_FULL = 'The transient data of this room is full.';

/** Session data may only be written by its session; internal clients may write anything. */
function mayUpdateTransientKey(session: ClientSession, key: string): boolean {
  if (session.clientType === 'internal' || !key.startsWith(SESSION_DATA_PREFIX)) return true;
  return key.slice(SESSION_DATA_PREFIX.length) === session.publicId;
}

/** Internal clients always may; others need `transient-data` (old-style sessions have it). */
function mayUpdateTransientData(session: ClientSession): boolean {
  return session.clientType === 'internal' || session.hasPermission(Permission.TransientData);
}
