import { z } from 'zod';
import { invalidFormat } from '../errors';
import { JsonObjectSchema } from '../optional-field';
import { describeIssue } from '../parse-with-schema';
import type { ParseResult } from '../parse-result';
import { parseJsonLimited } from '../json-limits';

const id = z.string().min(1).optional();

/** Proxy hello (fact sheet 5.6): version `1.0`; `token` (RS256 JWT) required unless resuming. */
export const ProxyHelloClientPayloadSchema = z
  .object({
    version: z.literal('1.0'),
    resumeid: z.string().optional(),
    features: z.array(z.string()).optional(),
    token: z.string().optional(),
  })
  .refine((h) => !!h.resumeid || !!h.token, { message: 'token missing', path: ['token'] });

/** Proxy command types. */
export const ProxyCommandType = {
  CreatePublisher: 'create-publisher',
  CreateSubscriber: 'create-subscriber',
  DeletePublisher: 'delete-publisher',
  DeleteSubscriber: 'delete-subscriber',
  PublishRemote: 'publish-remote',
  GetPublisherStreams: 'get-publisher-streams',
} as const;

/** `command` payload (C→P); required fields depend on `type`. */
export const ProxyCommandClientPayloadSchema = z
  .object({
    type: z.string().min(1),
    sid: z.string().optional(),
    streamType: z.string().optional(),
    publisherId: z.string().optional(),
    clientId: z.string().optional(),
    bitrate: z.int().optional(),
    /** Bit mask of media types (audio 1, video 2, screen 4, data 8 upstream). */
    mediatypes: z.int().optional(),
    /** Replaces `bitrate`/`mediatypes` since upstream 2.0 (room codecs and profiles as well). */
    publisherSettings: z
      .object({
        bitrate: z.int().optional(),
        mediatypes: z.int().optional(),
        audiocodec: z.string().optional(),
        videocodec: z.string().optional(),
        vp9_profile: z.string().optional(),
        h264_profile: z.string().optional(),
      })
      .optional(),
    remoteUrl: z.string().optional(),
    remoteToken: z.string().optional(),
    hostname: z.string().optional(),
    port: z.int().optional(),
    rtcpPort: z.int().optional(),
  })
  .superRefine((c, ctx) => {
    const need = (field: keyof typeof c, message: string): void => {
      if (!c[field]) ctx.addIssue({ code: 'custom', message, path: [field] });
    };
    switch (c.type) {
      case 'create-publisher':
        need('streamType', 'stream type missing');
        break;
      case 'create-subscriber':
        need('publisherId', 'publisher id missing');
        need('streamType', 'stream type missing');
        if (c.remoteUrl) need('remoteToken', 'remote token missing');
        break;
      case 'delete-publisher':
      case 'delete-subscriber':
        need('clientId', 'client id missing');
        break;
    }
  });

/** `payload` (C→P): SDP/candidate exchange with a proxy client (publisher/subscriber). */
export const ProxyPayloadClientPayloadSchema = z
  .object({
    type: z.string().min(1),
    clientId: z.string().min(1),
    sid: z.string().optional(),
    payload: JsonObjectSchema.optional(),
  })
  .refine(
    (p) =>
      !(p.type === 'offer' || p.type === 'answer' || p.type === 'candidate') ||
      (p.payload !== undefined && Object.keys(p.payload).length > 0),
    { message: 'payload missing', path: ['payload'] },
  );

/** Signaling → proxy messages. */
export const ProxyClientMessageSchema = z.discriminatedUnion('type', [
  z.object({ id, type: z.literal('hello'), hello: ProxyHelloClientPayloadSchema }),
  z.object({ id, type: z.literal('bye'), bye: z.object({}).optional() }),
  z.object({ id, type: z.literal('command'), command: ProxyCommandClientPayloadSchema }),
  z.object({ id, type: z.literal('payload'), payload: ProxyPayloadClientPayloadSchema }),
]);
/** Signaling → proxy message. */
export type ProxyClientMessage = z.infer<typeof ProxyClientMessageSchema>;

/**
 * Parses a frame received by the proxy. Failures are `invalid_format` (the proxy's answer
 * upstream); `id` is set when the envelope had one.
 */
export function parseProxyClientMessage(text: string): ParseResult<ProxyClientMessage> {
  const json = parseJsonLimited(text);
  if (!json.ok) return { ok: false, error: invalidFormat(json.reason) };
  const raw = json.value;
  const result = ProxyClientMessageSchema.safeParse(raw);
  if (result.success) return { ok: true, value: result.data };
  const error = invalidFormat(describeIssue(result.error));
  const rawId = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>)['id'] : undefined;
  return typeof rawId === 'string' && rawId !== '' ? { ok: false, error, id: rawId } : { ok: false, error };
}
