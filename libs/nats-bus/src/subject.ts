/**
 * Upstream's subject names (fact sheet 6.1). Room and user parts are base64 (standard alphabet,
 * with padding) of `"<id>|<backend id>"`, because ids may contain characters NATS reserves;
 * the compat backend (allowall / allowed) has no `|<backend>` suffix.
 */
export const COMPAT_BACKEND_ID = 'compat';

function scoped(id: string, backendId: string): string {
  const value = backendId === COMPAT_BACKEND_ID ? id : `${id}|${backendId}`;
  return Buffer.from(value, 'utf8').toString('base64');
}

export function sessionSubject(publicSessionId: string): string {
  return `session.${publicSessionId}`;
}

export function userSubject(userId: string, backendId: string): string {
  return `user.${scoped(userId, backendId)}`;
}

export function roomSubject(roomId: string, backendId: string): string {
  return `room.${scoped(roomId, backendId)}`;
}

export function backendRoomSubject(roomId: string, backendId: string): string {
  return `backend.room.${scoped(roomId, backendId)}`;
}
