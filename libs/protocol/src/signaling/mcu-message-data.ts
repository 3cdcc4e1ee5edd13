import { z } from 'zod';
import { invalidFormat, signalingError } from '../errors';
import type { SignalingError } from '../errors';
import { isJsonObject, JsonObjectSchema, optionalField } from '../optional-field';
import { describeIssue } from '../parse-with-schema';
import type { ParseResult } from '../parse-result';

/** Stream types ("room types") of MCU messages; only `video` and `screen` can be published. */
export const StreamType = { Audio: 'audio', Video: 'video', Screen: 'screen' } as const;
/** Any value of {@link StreamType}. */
export type StreamTypeId = (typeof StreamType)[keyof typeof StreamType];

/** MCU message types carried in `message.data` (fact sheet 1.9). */
export const McuMessageType = {
  Offer: 'offer',
  Answer: 'answer',
  Candidate: 'candidate',
  EndOfCandidates: 'endOfCandidates',
  RequestOffer: 'requestoffer',
  SendOffer: 'sendoffer',
  SelectStream: 'selectStream',
  UnshareScreen: 'unshareScreen',
} as const;
/** Any value of {@link McuMessageType}. */
export type McuMessageTypeId = (typeof McuMessageType)[keyof typeof McuMessageType];

/** Schema of MCU data (JSON types only; semantic checks in {@link parseMcuMessageData}). */
export const McuMessageDataSchema = z.object({
  type: optionalField(z.string()),
  sid: optionalField(z.string()),
  roomType: optionalField(z.string()),
  /** Requested max bitrate in bit/s (offers); an integer like Go's `int`. */
  bitrate: optionalField(z.int()),
  /** Opaque payload (jsep, candidate, stream selection); the very object sent, not a copy. */
  payload: optionalField(JsonObjectSchema),
  // Section 9, feature `offer-codecs` (offers only).
  audiocodec: optionalField(z.string()),
  videocodec: optionalField(z.string()),
  vp9profile: optionalField(z.string()),
  h264profile: optionalField(z.string()),
});

/**
 * MCU data of a `message` (fact sheet 1.9). `type` is open (`""` when absent): other types are
 * forwarded as ordinary messages by the app.
 */
export interface McuMessageData {
  type: McuMessageTypeId | (string & {});
  sid?: string;
  /** `""` when absent; otherwise one of {@link StreamType}. */
  roomType: StreamTypeId | '';
  bitrate?: number;
  payload?: Record<string, unknown>;
  audiocodec?: string;
  videocodec?: string;
  vp9profile?: string;
  h264profile?: string;
}

/** `payload` of `selectStream` / `requestoffer`. */
export interface StreamSelection {
  substream?: number;
  temporal?: number;
  audio?: boolean;
  video?: boolean;
}

/**
 * Three-way outcome of looking at `message.data` when an MCU is configured, as upstream does:
 * - `mcu`: decodes as MCU data and is valid;
 * - `forward`: does not decode as MCU data (not an object, or wrongly typed fields) — deliver
 *   it untouched as an ordinary message;
 * - `error`: decodes but is invalid — answer with `error` and do not deliver.
 */
export type McuDataClassification =
  | { kind: 'mcu'; value: McuMessageData }
  | { kind: 'forward'; reason: string }
  | { kind: 'error'; error: SignalingError };

/** See {@link McuDataClassification}. */
export function classifyMcuMessageData(data: unknown): McuDataClassification {
  if (!isJsonObject(data)) return { kind: 'forward', reason: 'data: not an object' };
  const result = McuMessageDataSchema.safeParse(data);
  if (!result.success) return { kind: 'forward', reason: describeIssue(result.error, 'data') };
  const d = result.data;
  const roomType = d.roomType ?? '';
  if (roomType !== '' && roomType !== 'audio' && roomType !== 'video' && roomType !== 'screen') {
    return { kind: 'error', error: invalidFormat(`data.roomType: invalid room type ${JSON.stringify(roomType)}`) };
  }
  const type = d.type ?? '';
  if (type === 'offer' || type === 'answer') {
    const sdp = d.payload?.['sdp'];
    if (sdp === undefined) return { kind: 'error', error: signalingError('no_sdp') };
    if (typeof sdp !== 'string') return { kind: 'error', error: signalingError('invalid_sdp') };
  }
  const value: McuMessageData = { type, roomType };
  if (d.sid !== undefined) value.sid = d.sid;
  if (d.bitrate !== undefined) value.bitrate = d.bitrate;
  if (d.payload !== undefined) value.payload = d.payload;
  if (d.audiocodec) value.audiocodec = d.audiocodec;
  if (d.videocodec) value.videocodec = d.videocodec;
  if (d.vp9profile) value.vp9profile = d.vp9profile;
  if (d.h264profile) value.h264profile = d.h264profile;
  return { kind: 'mcu', value };
}

/**
 * Validates `message.data` as MCU data (fact sheet 1.9): room type, and for offers/answers a
 * string `payload.sdp` (`no_sdp` / `invalid_sdp`). Parsing the SDP itself is the SFU layer's job.
 * Data that does not decode as MCU data also fails here (`invalid_format`, reason says why);
 * use {@link classifyMcuMessageData} to forward such data untouched like upstream does.
 */
export function parseMcuMessageData(data: unknown): ParseResult<McuMessageData> {
  const result = classifyMcuMessageData(data);
  switch (result.kind) {
    case 'mcu':
      return { ok: true, value: result.value };
    case 'error':
      return { ok: false, error: result.error };
    case 'forward':
      return { ok: false, error: invalidFormat(result.reason) };
  }
}

/** Server-originated MCU message data (`offer`/`answer`/`candidate` to a client). */
export const AnswerOfferMessageSchema = z.object({
  to: z.string(),
  from: z.string(),
  type: z.string(),
  roomType: z.string(),
  payload: z.record(z.string(), z.unknown()),
  sid: z.string().min(1).optional(),
});
/** Server-originated MCU message data. */
export type AnswerOfferMessage = z.infer<typeof AnswerOfferMessageSchema>;

