import { z } from 'zod';

const RecipientTypeSchema = z.enum(['session', 'user', 'room', 'call']);

/** Sender of a delivered `message`/`control`; `type` is the recipient type that was used. */
export const MessageSenderSchema = z.object({
  type: RecipientTypeSchema,
  sessionid: z.string().min(1).optional(),
  userid: z.string().min(1).optional(),
});
/** Sender of a delivered message. */
export type MessageSender = z.infer<typeof MessageSenderSchema>;

/** Recipient echoed on delivered messages (routed via NATS, virtual sessions). */
export const MessageRecipientSchema = z.object({
  type: RecipientTypeSchema,
  sessionid: z.string().min(1).optional(),
  userid: z.string().min(1).optional(),
});

/** Payload of a delivered `message` or `control`. */
export const MessageServerPayloadSchema = z.object({
  sender: MessageSenderSchema,
  recipient: MessageRecipientSchema.optional(),
  data: z.unknown().refine((v) => v !== undefined, { message: 'data is required' }),
});
/** Delivered `message`/`control` payload. */
export type MessageServerPayload = z.infer<typeof MessageServerPayloadSchema>;

/** `{"type":"message","message":{sender,recipient?,data}}`. */
export const MessageServerMessageSchema = z.object({
  id: z.string().min(1).optional(),
  type: z.literal('message'),
  message: MessageServerPayloadSchema,
});
/** Delivered `message`. */
export type MessageServerMessage = z.infer<typeof MessageServerMessageSchema>;

/** `{"type":"control","control":{sender?,recipient?,data}}`. */
export const ControlServerMessageSchema = z.object({
  id: z.string().min(1).optional(),
  type: z.literal('control'),
  // The server-generated hangup control (virtual session disinvited, fact sheet 1.10) has no
  // sender; upstream then writes `"sender":null`.
  control: MessageServerPayloadSchema.extend({ sender: MessageSenderSchema.nullable() }),
});
/** Delivered `control`. */
export type ControlServerMessage = z.infer<typeof ControlServerMessageSchema>;
