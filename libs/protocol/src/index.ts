// Public API of @talk-signaling/protocol: zod schemas, inferred types and pure helpers for the
// Nextcloud Talk signaling protocol. No I/O.

export type { ParseResult } from './parse-result';
export { parseOk, parseFail } from './parse-result';
export { MAX_JSON_DEPTH, jsonNestsDeeperThan, parseJsonLimited } from './json-limits';
export type { JsonLimits, JsonFailure } from './json-limits';
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
  HelloFederationAuth,
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

// Server → client (websocket)
export { ServerMessageSchema, parseServerMessage } from './signaling/server-message';
export type { ServerMessage, ServerMessageType } from './signaling/server-message';
export { FeatureListSchema, WelcomePayloadSchema, WelcomeServerMessageSchema } from './signaling/welcome-server-message';
export type { WelcomePayload, WelcomeServerMessage } from './signaling/welcome-server-message';
export { HelloServerPayloadSchema, HelloServerMessageSchema } from './signaling/hello-server-message';
export type { HelloServerPayload, HelloServerMessage } from './signaling/hello-server-message';
export { ByeReason, ByeServerPayloadSchema, ByeServerMessageSchema } from './signaling/bye-server-message';
export type { ByeServerMessage } from './signaling/bye-server-message';
export { ErrorPayloadSchema, ErrorServerMessageSchema } from './signaling/error-server-message';
export type { ErrorServerMessage } from './signaling/error-server-message';
export {
  RoomBandwidthSchema,
  RoomServerPayloadSchema,
  RoomServerMessageSchema,
  AlreadyJoinedDetailsSchema,
} from './signaling/room-server-message';
export type { RoomServerPayload, RoomServerMessage, AlreadyJoinedDetails } from './signaling/room-server-message';
export {
  MessageSenderSchema,
  MessageRecipientSchema,
  MessageServerPayloadSchema,
  MessageServerMessageSchema,
  ControlServerMessageSchema,
} from './signaling/message-server-message';
export type {
  MessageSender,
  MessageServerPayload,
  MessageServerMessage,
  ControlServerMessage,
} from './signaling/message-server-message';
export {
  DisinviteReason,
  EventSessionEntrySchema,
  RoomlistPayloadSchema,
  ParticipantsUpdatePayloadSchema,
  RoomJoinEventSchema,
  RoomLeaveEventSchema,
  RoomChangeEventSchema,
  RoomMessageEventSchema,
  RoomSwitchtoEventSchema,
  RoomDeleteEventSchema,
  RoomFederationInterruptedEventSchema,
  RoomFederationResumedEventSchema,
  RoomlistInviteEventSchema,
  RoomlistDisinviteEventSchema,
  RoomlistUpdateEventSchema,
  ParticipantsUpdateEventSchema,
  ParticipantsFlagsEventSchema,
  EventServerPayloadSchema,
  EventServerMessageSchema,
} from './signaling/event-server-message';
export type {
  EventSessionEntry,
  ParticipantsUpdatePayload,
  EventServerPayload,
  EventTarget,
  EventServerMessage,
} from './signaling/event-server-message';
export { TransientServerPayloadSchema, TransientServerMessageSchema } from './signaling/transient-server-message';
export type { TransientServerPayload, TransientServerMessage } from './signaling/transient-server-message';
export {
  DialoutRequestContentsSchema,
  InternalServerDialoutRequestSchema,
  InternalServerMessageSchema,
} from './signaling/internal-server-message';
export type { InternalServerDialoutRequest, InternalServerMessage } from './signaling/internal-server-message';
export { DialoutStatusSchema, DialoutServerMessageSchema } from './signaling/dialout-server-message';
export type { DialoutServerMessage } from './signaling/dialout-server-message';

// MCU signalling in message data, flags, permissions
export {
  StreamType,
  McuMessageType,
  McuMessageDataSchema,
  AnswerOfferMessageSchema,
  classifyMcuMessageData,
  parseMcuMessageData,
} from './signaling/mcu-message-data';
export type {
  StreamTypeId,
  McuMessageTypeId,
  McuMessageData,
  StreamSelection,
  McuDataClassification,
  AnswerOfferMessage,
} from './signaling/mcu-message-data';
export { Permission, DEFAULT_PERMISSIONS } from './signaling/permission';
export type { PermissionId } from './signaling/permission';
export {
  InCallFlag,
  VirtualSessionFlag,
  DEFAULT_INTERNAL_INCALL,
  DEFAULT_VIRTUAL_INCALL,
  inCallFlags,
  isInCall,
} from './signaling/flags';

// Backend API (Nextcloud ↔ signaling)
export {
  OCS_INCOMPLETE_MESSAGE,
  OCS_THROTTLED_MESSAGE,
  OCS_INCOMPLETE_REASON,
  OCS_THROTTLED_REASON,
  OcsMetaSchema,
  OcsResponseSchema,
  unwrapOcs,
  isThrottledOcsError,
  buildOcsResponse,
} from './backend/ocs';
export type { OcsResponse } from './backend/ocs';
export {
  CAPABILITY_SIGNALING_V3,
  CONFIG_HELLO_V2_TOKEN_KEY,
  CONFIG_SESSION_PING_LIMIT,
  parseCapabilities,
} from './backend/capabilities';
export type { Capabilities } from './backend/capabilities';
export {
  BackendRoomInviteSchema,
  BackendRoomDisinviteSchema,
  BackendRoomUpdateSchema,
  BackendRoomDeleteSchema,
  BackendRoomParticipantsSchema,
  BackendRoomInCallSchema,
  BackendRoomMessageSchema,
  BackendRoomSwitchToSchema,
  BackendRoomDialoutSchema,
  BackendRoomTransientSchema,
  BackendRoomDialoutResponseSchema,
  UNSUPPORTED_REQUEST_TYPE,
  parseBackendRoomRequest,
  dialoutSuccessResponse,
  dialoutErrorResponse,
} from './backend/backend-room-request';
export type {
  BackendRoomRequest,
  BackendRoomRequestType,
  BackendRoomInvite,
  BackendRoomDisinvite,
  BackendRoomUpdate,
  BackendRoomDelete,
  BackendRoomParticipants,
  BackendRoomInCall,
  BackendRoomMessage,
  BackendRoomSwitchTo,
  BackendRoomDialout,
  BackendRoomTransient,
  BackendRoomDialoutResponse,
} from './backend/backend-room-request';
export {
  BACKEND_VERSION,
  BackendClientAuthRequestSchema,
  BackendClientRoomRequestSchema,
  BackendPingEntrySchema,
  BackendClientPingRequestSchema,
  BackendClientSessionRequestSchema,
  BackendClientRequestSchema,
  newBackendClientAuthRequest,
  newBackendClientRoomRequest,
  newBackendClientPingRequest,
  newBackendClientSessionRequest,
} from './backend/backend-client-request';
export type {
  BackendClientAuthRequest,
  BackendClientRoomRequest,
  BackendPingEntry,
  BackendClientPingRequest,
  BackendClientSessionRequest,
  BackendClientRequest,
} from './backend/backend-client-request';
export {
  BackendClientAuthResponseSchema,
  BackendClientRoomResponseSchema,
  BackendClientPingResponseSchema,
  BackendClientSessionResponseSchema,
  parseBackendClientResponse,
} from './backend/backend-client-response';
export type {
  BackendClientResponse,
  BackendClientAuthResponse,
  BackendClientRoomResponse,
  BackendClientPingResponse,
  BackendClientSessionResponse,
} from './backend/backend-client-response';

// Signaling ↔ mcu-proxy protocol
export {
  ProxyHelloClientPayloadSchema,
  ProxyCommandType,
  ProxyCommandClientPayloadSchema,
  ProxyPayloadClientPayloadSchema,
  ProxyClientMessageSchema,
  parseProxyClientMessage,
} from './proxy/proxy-client-message';
export type { ProxyClientMessage } from './proxy/proxy-client-message';
export {
  ProxyHelloServerPayloadSchema,
  PublisherStreamSchema,
  ProxyCommandServerPayloadSchema,
  ProxyPayloadServerPayloadSchema,
  ProxyEventType,
  ProxyEventServerPayloadSchema,
  ProxyServerMessageSchema,
  PROXY_ERROR_MESSAGES,
  parseProxyServerMessage,
} from './proxy/proxy-server-message';
export type { PublisherStream, ProxyServerMessage } from './proxy/proxy-server-message';
