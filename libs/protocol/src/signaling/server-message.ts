import { z } from 'zod';
import { ByeServerMessageSchema } from './bye-server-message';
import { DialoutServerMessageSchema } from './dialout-server-message';
import { ErrorServerMessageSchema } from './error-server-message';
import { EventServerMessageSchema } from './event-server-message';
import { HelloServerMessageSchema } from './hello-server-message';
import { InternalServerMessageSchema } from './internal-server-message';
import { ControlServerMessageSchema, MessageServerMessageSchema } from './message-server-message';
import { RoomServerMessageSchema } from './room-server-message';
import { TransientServerMessageSchema } from './transient-server-message';
import { WelcomeServerMessageSchema } from './welcome-server-message';
import { describeIssue } from '../parse-with-schema';
import { parseJsonLimited } from '../json-limits';

/** Every server → client message (fact sheet 1.2), discriminated by `type`. */
export const ServerMessageSchema = z.discriminatedUnion('type', [
  WelcomeServerMessageSchema,
  HelloServerMessageSchema,
  ByeServerMessageSchema,
  ErrorServerMessageSchema,
  RoomServerMessageSchema,
  EventServerMessageSchema,
  MessageServerMessageSchema,
  ControlServerMessageSchema,
  TransientServerMessageSchema,
  InternalServerMessageSchema,
  DialoutServerMessageSchema,
]);
/** Any server → client message. */
export type ServerMessage = z.infer<typeof ServerMessageSchema>;
/** Server → client message types. */
export type ServerMessageType = ServerMessage['type'];

/**
 * Validates a frame a server sent (test clients, bench client). Throws nothing; returns the
 * message or a readable description of the first problem.
 */
export function parseServerMessage(text: string): { ok: true; value: ServerMessage } | { ok: false; reason: string } {
  const json = parseJsonLimited(text);
  if (!json.ok) return { ok: false, reason: json.reason };
  const result = ServerMessageSchema.safeParse(json.value);
  return result.success ? { ok: true, value: result.data } : { ok: false, reason: describeIssue(result.error) };
}
