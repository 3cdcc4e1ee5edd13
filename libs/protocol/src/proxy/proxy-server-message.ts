import { z } from 'zod';
import { ErrorPayloadSchema } from '../signaling/error-server-message';
import { describeIssue } from '../parse-with-schema';
import { parseJsonLimited } from '../json-limits';

const id = z.string().min(1).optional();

/** Proxy hello response: `server` carries the proxy version and optional country. */
export const ProxyHelloServerPayloadSchema = z.object({
  version: z.literal('1.0'),
  sessionid: z.string(),
  server: z
    .object({
      version: z.string(),
      features: z.array(z.string()).optional(),
      country: z.string().optional(),
    })
    .optional(),
});

/** A stream of a publisher (`get-publisher-streams`). */
export const PublisherStreamSchema = z.object({
  mid: z.string(),
  mindex: z.int(),
  type: z.string(),
  description: z.string().optional(),
  disabled: z.boolean().optional(),
  codec: z.string().optional(),
  stereo: z.boolean().optional(),
  fec: z.boolean().optional(),
  dtx: z.boolean().optional(),
  simulcast: z.boolean().optional(),
  svc: z.boolean().optional(),
  h264_profile: z.string().optional(),
  vp9_profile: z.string().optional(),
  videoorient_ext_id: z.int().optional(),
  playoutdelay_ext_id: z.int().optional(),
});
/** Publisher stream description. */
export type PublisherStream = z.infer<typeof PublisherStreamSchema>;

/** `command` response: `id` = proxy client id (UUID); `sid`, `bitrate`, `streams` per command. */
export const ProxyCommandServerPayloadSchema = z.object({
  id: z.string().optional(),
  sid: z.string().optional(),
  bitrate: z.int().optional(),
  streams: z.array(PublisherStreamSchema).optional(),
});

/** `payload` (P→C): jsep/candidate for a proxy client, or null. */
export const ProxyPayloadServerPayloadSchema = z.object({
  type: z.string(),
  clientId: z.string(),
  payload: z.record(z.string(), z.unknown()).nullable().optional(),
});

/** Proxy event types. */
export const ProxyEventType = {
  UpdateLoad: 'update-load',
  BackendConnected: 'backend-connected',
  BackendDisconnected: 'backend-disconnected',
  ShutdownScheduled: 'shutdown-scheduled',
  IceCompleted: 'ice-completed',
  PublisherClosed: 'publisher-closed',
  SubscriberClosed: 'subscriber-closed',
  SubscriberSidUpdated: 'subscriber-sid-updated',
} as const;

/** `event` (P→C): load updates, backend state, per-client notifications. */
export const ProxyEventServerPayloadSchema = z.object({
  type: z.string(),
  clientId: z.string().optional(),
  load: z.int().optional(),
  sid: z.string().optional(),
  /** Usage in percent of the proxy's limits; `received` / `sent` in bit/s (v2.1.1). */
  bandwidth: z
    .object({ incoming: z.number().optional(), outgoing: z.number().optional(), received: z.number().optional(), sent: z.number().optional() })
    .optional(),
});

/** Proxy → signaling messages. */
export const ProxyServerMessageSchema = z.discriminatedUnion('type', [
  z.object({ id, type: z.literal('hello'), hello: ProxyHelloServerPayloadSchema }),
  z.object({ id, type: z.literal('bye'), bye: z.object({ reason: z.string() }).optional() }),
  z.object({ id, type: z.literal('command'), command: ProxyCommandServerPayloadSchema }),
  z.object({ id, type: z.literal('payload'), payload: ProxyPayloadServerPayloadSchema }),
  z.object({ id, type: z.literal('event'), event: ProxyEventServerPayloadSchema }),
  z.object({ id, type: z.literal('error'), error: ErrorPayloadSchema }),
]);
/** Proxy → signaling message. */
export type ProxyServerMessage = z.infer<typeof ProxyServerMessageSchema>;

/** Proxy error texts (fact sheet 5.6). */
export const PROXY_ERROR_MESSAGES = {
  hello_expected: 'Expected Hello request.',
  no_such_session: 'The session to resume does not exist.',
  auth_failed: 'The token could not be authenticated.',
  token_expired: 'The token is expired.',
  token_not_valid_yet: 'The token is not valid yet.',
  unknown_client: 'Unknown client id given.',
  unsupported_command: 'Unsupported command received.',
  unsupported_message: 'Unsupported message received.',
  unsupported_payload: 'Unsupported payload type.',
  shutdown_scheduled: 'The server is scheduled to shutdown.',
  timeout_publisher: 'Timeout creating publisher.',
  timeout_subscriber: 'Timeout creating subscriber.',
  unsupported_subscriber: 'Remote subscribers are not supported.',
} as const;

/** Validates a frame received from a proxy. */
export function parseProxyServerMessage(
  text: string,
): { ok: true; value: ProxyServerMessage } | { ok: false; reason: string } {
  const json = parseJsonLimited(text);
  if (!json.ok) return { ok: false, reason: json.reason };
  const result = ProxyServerMessageSchema.safeParse(json.value);
  return result.success ? { ok: true, value: result.data } : { ok: false, reason: describeIssue(result.error) };
}
