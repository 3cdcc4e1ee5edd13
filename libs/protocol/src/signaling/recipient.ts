import { z } from 'zod';
import { optionalField } from '../optional-field';

/** Recipient types of `message`/`control` (`call` since upstream 2.0.2, feature `recipient-call`). */
export const RecipientType = {
  Session: 'session',
  User: 'user',
  Room: 'room',
  Call: 'call',
} as const;

/** Any value of {@link RecipientType}. */
export type RecipientTypeId = (typeof RecipientType)[keyof typeof RecipientType];

/** Recipient of a `message`/`control`; the fields not needed by a type are kept if sent. */
export type MessageRecipient =
  | { type: 'session'; sessionid: string; userid?: string }
  | { type: 'user'; userid: string; sessionid?: string }
  | { type: 'room'; sessionid?: string; userid?: string }
  | { type: 'call'; sessionid?: string; userid?: string };

/** JSON-type level shape of a recipient object. */
export const RecipientShape = z.object({
  type: optionalField(z.string()),
  sessionid: optionalField(z.string()),
  userid: optionalField(z.string()),
});

/**
 * Checks the recipient rules of fact sheet 1.8 (session needs `sessionid`, user needs `userid`);
 * returns the recipient or a reason for the failure.
 */
export function checkRecipient(
  raw: { type?: string | undefined; sessionid?: string | undefined; userid?: string | undefined },
  prefix: string,
): { recipient: MessageRecipient } | { reason: string } {
  const extra: { sessionid?: string; userid?: string } = {};
  if (raw.sessionid) extra.sessionid = raw.sessionid;
  if (raw.userid) extra.userid = raw.userid;
  switch (raw.type) {
    case 'session':
      if (!raw.sessionid) return { reason: `${prefix}.recipient.sessionid: required for type session` };
      return { recipient: { ...extra, type: 'session', sessionid: raw.sessionid } };
    case 'user':
      if (!raw.userid) return { reason: `${prefix}.recipient.userid: required for type user` };
      return { recipient: { ...extra, type: 'user', userid: raw.userid } };
    case 'room':
    case 'call':
      return { recipient: { ...extra, type: raw.type } };
    default:
      return { reason: `${prefix}.recipient.type: unsupported ${JSON.stringify(raw.type ?? null)}` };
  }
}
