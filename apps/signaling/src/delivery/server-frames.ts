import type { ErrorPayload } from '@talk-signaling/protocol';
import type { ClientSession } from '../session/client-session';

/**
 * Serialisers for the server messages the hub sends itself. Key order follows upstream's
 * structs (`id`, `type`, payload) so captures compare line by line.
 */

export function welcomeFrame(version: string, features: readonly string[]): string {
  return JSON.stringify({ type: 'welcome', welcome: { version, features } });
}

export function errorFrame(id: string | undefined, error: ErrorPayload): string {
  const payload: ErrorPayload = { code: error.code, message: error.message };
  if (error.details !== undefined) payload.details = error.details;
  return JSON.stringify(id === undefined ? { type: 'error', error: payload } : { id, type: 'error', error: payload });
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
  return JSON.stringify(id === undefined ? { type: 'hello', hello } : { id, type: 'hello', hello });
}
