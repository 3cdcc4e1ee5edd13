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
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `invalid JSON: ${(err as Error).message}` };
  }
  const result = ServerMessageSchema.safeParse(raw);
  return result.success ? { ok: true, value: result.data } : { ok: false, reason: describeIssue(result.error) };
}
