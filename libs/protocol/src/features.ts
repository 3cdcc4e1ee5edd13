/**
 * Server feature ids announced in `welcome.features`, `hello.server.features` and the
 * `X-Spreed-Signaling-Features` header (fact sheet 1.3 and section 9).
 */
export const ServerFeature = {
  AudioVideoPermissions: 'audio-video-permissions',
  Dialout: 'dialout',
  HelloV2: 'hello-v2',
  IncallAll: 'incall-all',
  Switchto: 'switchto',
  TransientData: 'transient-data',
  VirtualSessions: 'virtual-sessions',
  Welcome: 'welcome',
  /** Only when an MCU is configured and started. */
  Mcu: 'mcu',
  /** Only with an MCU. */
  Simulcast: 'simulcast',
  /** Only with an MCU. */
  UpdateSdp: 'update-sdp',
  // Section 9: added after v1.3.0.
  Federation: 'federation',
  RecipientCall: 'recipient-call',
  JoinFeatures: 'join-features',
  OfferCodecs: 'offer-codecs',
  Serverinfo: 'serverinfo',
  ChatRelay: 'chat-relay',
  TransientSessiondata: 'transient-sessiondata',
} as const;

/** Any value of {@link ServerFeature}. */
export type ServerFeatureId = (typeof ServerFeature)[keyof typeof ServerFeature];

/** Client feature ids understood in `hello.features`; other ids are stored but ignored. */
export const ClientFeature = {
  /** Internal client manages its own in-call flags (no default flags). */
  InternalInCall: 'internal-incall',
  /** Internal client can place phone calls (dialout target). */
  StartDialout: 'start-dialout',
  /** Client wants full chat comments relayed instead of only `refresh` (section 9). */
  ChatRelay: 'chat-relay',
} as const;

/** Any value of {@link ClientFeature}. */
export type ClientFeatureId = (typeof ClientFeature)[keyof typeof ClientFeature];

/** De-duplicated feature ids in alphabetical (code unit) order, as upstream keeps every list. */
export function sortedFeatures(ids: Iterable<string>): string[] {
  return [...new Set(ids)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
