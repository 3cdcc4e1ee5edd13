// Public API of @talk-signaling/protocol: zod schemas, inferred types and pure helpers for the
// Nextcloud Talk signaling protocol. No I/O.

export type { ParseResult } from './parse-result';
export { parseOk, parseFail } from './parse-result';
export {
  ERROR_MESSAGES,
  NOT_ALLOWED_MESSAGES,
  ALTERNATIVE_ERROR_MESSAGES,
  SignalingError,
  signalingError,
  invalidFormat,
  isKnownErrorCode,
} from './errors';
export type { KnownErrorCode, ErrorPayload } from './errors';
export { ServerFeature, ClientFeature, sortedFeatures } from './features';
export type { ServerFeatureId, ClientFeatureId } from './features';
export {
  HEADER_RANDOM,
  HEADER_CHECKSUM,
  HEADER_BACKEND,
  HEADER_FEATURES,
  newRandom,
  calculateChecksum,
  validateChecksum,
} from './checksum';
export { normalizeHttpUrl, normalizeAbsoluteUrl } from './normalize-url';
export { describeIssue } from './parse-with-schema';

// Client → server (websocket)
export { parseClientMessage, parseClientMessageObject } from './signaling/parse-client-message';
export type { ClientMessage, ClientMessageType, UnknownClientMessage } from './signaling/parse-client-message';
export { HELLO_VERSION_V1, HELLO_VERSION_V2, parseHelloPayload } from './signaling/hello-client-message';
export type {
  HelloVersion,
  HelloClientMessage,
  HelloClientPayload,
  HelloResumePayload,
  HelloAuthPayload,
  HelloAuth,
  HelloClientAuth,
  HelloInternalAuth,
  HelloResumeAuth,
  HelloV2AuthParams,
  InternalAuthParams,
} from './signaling/hello-client-message';
export type { ByeClientMessage } from './signaling/bye-client-message';
export { parseRoomPayload } from './signaling/room-client-message';
export type { RoomClientMessage, RoomClientPayload, RoomFederationPayload } from './signaling/room-client-message';
export { RecipientType } from './signaling/recipient';
export type { RecipientTypeId, MessageRecipient } from './signaling/recipient';
export { parseMessagePayload } from './signaling/message-client-message';
export type {
  MessageClientMessage,
  ControlClientMessage,
  MessageClientPayload,
} from './signaling/message-client-message';
export { parseTransientPayload } from './signaling/transient-client-message';
export type { TransientClientMessage, TransientClientPayload } from './signaling/transient-client-message';
export { DialoutStatus, parseInternalPayload } from './signaling/internal-client-message';
export type {
  InternalClientMessage,
  InternalClientPayload,
  InternalClientPayloadType,
  AddSessionPayload,
  AddSessionOptions,
  UpdateSessionPayload,
  RemoveSessionPayload,
  InCallPayload,
  DialoutClientPayload,
  DialoutStatusPayload,
  DialoutStatusId,
} from './signaling/internal-client-message';
