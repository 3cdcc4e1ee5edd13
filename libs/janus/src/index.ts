// Public API of @talk-signaling/janus: a Janus WebSocket API client (gateway/) and VideoRoom
// publisher/subscriber objects built on it (videoroom/), and the link an app keeps to its Janus
// (link/: connection lifecycle, room registry, orphan-room reconciliation). Knows nothing about
// signaling sessions.

export { JanusConnection, JANUS_SUBPROTOCOL, DEFAULT_REQUEST_TIMEOUT_MS, DEFAULT_RECONNECT_INITIAL_MS, DEFAULT_RECONNECT_MAX_MS, DEFAULT_PING_INTERVAL_MS } from './gateway/janus-connection';
export type { JanusConnectionOptions, JanusConnectionState } from './gateway/janus-connection';
export { JanusSession, DEFAULT_KEEPALIVE_INTERVAL_MS } from './gateway/janus-session';
export type { JanusSessionOptions, AttachOptions } from './gateway/janus-session';
export { JanusHandle } from './gateway/janus-handle';
export type { RequestOptions } from './gateway/janus-handle';
export { TransactionTable } from './gateway/transaction-table';
export type { TransactionOptions } from './gateway/transaction-table';
export { JanusError, JanusTimeoutError, ClosedError, JanusErrorCode, VideoRoomErrorCode, toJanusError } from './gateway/errors';
export type {
  JanusMessage,
  Jsep,
  IceCandidate,
  TrickleCandidate,
  ServerInfo,
  PluginInfo,
  PluginData,
  PluginResult,
  MediaEvent,
  SlowLinkEvent,
  JanusConnectionEvents,
  JanusSessionEvents,
  JanusHandleEvents,
} from './gateway/janus-types';

export { VideoRoomPublisher, streamId } from './videoroom/publisher';
export { VideoRoomRemotePublisher } from './videoroom/remote-publisher';
export type { RemotePublisherSettings } from './videoroom/remote-publisher';
export { publisherStreamsFromSdp } from './videoroom/publisher-streams';
export type { PublisherStream } from './videoroom/publisher-streams';
export { VideoRoomSubscriber, selectionBody, DEFAULT_JOIN_TIMEOUT_MS } from './videoroom/subscriber';
export type { SubscriberOptions } from './videoroom/subscriber';
export { VideoRoomRegistry, DuplicatePublisherError, NoSuchPublisherError } from './videoroom/videoroom-registry';
export type { VideoRoomRegistryOptions, CreateSubscriberOptions, ReconcileResult } from './videoroom/videoroom-registry';
export { createVideoRoomMetrics } from './videoroom/metrics';
export type { VideoRoomMetrics } from './videoroom/metrics';
export { VIDEOROOM_PLUGIN, FEED_IDS } from './videoroom/videoroom-types';
export type { PublisherStreamType, PublisherSettings, StreamSelection, PublisherEvents, SubscriberEvents } from './videoroom/videoroom-types';

export { JanusLink, DEFAULT_START_RETRY } from './link/janus-link';
export type { JanusLinkOptions, JanusLinkEvents } from './link/janus-link';
