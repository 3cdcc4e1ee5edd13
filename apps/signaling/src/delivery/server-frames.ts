import type { ErrorPayload, SignalingError } from '@talk-signaling/protocol';
import type { ClientSession } from '../session/client-session';

/**
 * The one place server frames are serialised. Key order follows upstream's structs (`id`,
 * `type`, payload) so captures compare line by line. Frames that fan out to many receivers are
 * not built here but by the frame cache, from the message object the Router carries.
 */

export function welcomeFrame(version: string, features: readonly string[]): string {
  return JSON.stringify({ type: 'welcome', welcome: { version, features } });
}

/** `{id?, type, <type>: payload}`: the answer to a request (or an unsolicited message without id). */
export function serverFrame(id: string | undefined, type: string, payload: unknown): string {
  return JSON.stringify(id === undefined ? { type, [type]: payload } : { id, type, [type]: payload });
}

/** An error answer; `details` only when set (Go `omitempty`). */
export function errorFrame(id: string | undefined, error: ErrorPayload | SignalingError): string {
  const payload: ErrorPayload = { code: error.code, message: error.message };
  if (error.details !== undefined) payload.details = error.details;
  return serverFrame(id, 'error', payload);
}

/** Bye answer to a client `bye` (no `bye` object) or a server bye with a reason. */
export function byeFrame(id: string | undefined, reason?: string): string {
  const msg: Record<string, unknown> = id === undefined ? {} : { id };
  msg['type'] = 'bye';
  if (reason !== undefined) msg['bye'] = { reason };
  return JSON.stringify(msg);
}

/** The full hello response, also sent on resume (with the new request's id and version). */
export function helloFrame(
  id: string | undefined,
  version: string,
  session: ClientSession,
  server: { version: string; features: readonly string[] },
): string {
  const hello = {
    version,
    sessionid: session.publicId,
    resumeid: session.privateId,
    userid: session.userId,
    server: { version: server.version, features: server.features },
  };
  return serverFrame(id, 'hello', hello);
}
