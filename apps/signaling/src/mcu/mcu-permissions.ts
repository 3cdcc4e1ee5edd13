import { Permission } from '@talk-signaling/protocol';
import { MediaType } from './sdp-media';

/** What the checks need of a session. */
export interface PermissionHolder {
  hasPermission(permission: string): boolean;
}

/** A publish attempt the session's permissions do not cover. */
export class McuPermissionError extends Error {
  override readonly name = 'McuPermissionError';

  constructor(readonly permission: string) {
    super(`permission "${permission}" not found`);
  }
}

/**
 * Upstream `checkOfferType`: a screen offer needs `publish-screen`; otherwise each media section
 * of the SDP needs `publish-media`, or `publish-audio` (audio) / `publish-video` (video).
 * Returns the `MediaType` bits the publisher carries.
 */
export function offerMediaTypes(session: PermissionHolder, roomType: string, sdpTypes: number): number {
  if (roomType === 'screen') {
    if (!session.hasPermission(Permission.PublishScreen)) throw new McuPermissionError(Permission.PublishScreen);
    return MediaType.Screen;
  }
  const mayPublishMedia = session.hasPermission(Permission.PublishMedia);
  if (sdpTypes & MediaType.Audio && !mayPublishMedia && !session.hasPermission(Permission.PublishAudio)) {
    throw new McuPermissionError(Permission.PublishAudio);
  }
  if (sdpTypes & MediaType.Video && !mayPublishMedia && !session.hasPermission(Permission.PublishVideo)) {
    throw new McuPermissionError(Permission.PublishVideo);
  }
  return sdpTypes;
}

/**
 * Upstream `IsAllowedToSend` (own candidates, `sendoffer`): screen needs `publish-screen`;
 * otherwise `publish-media`, or for offers the SDP check, or else any of audio/video.
 */
export function isAllowedToSend(session: PermissionHolder, roomType: string, type: string, sdpTypes = 0): boolean {
  if (roomType === 'screen') return session.hasPermission(Permission.PublishScreen);
  if (session.hasPermission(Permission.PublishMedia)) return true;
  if (type === 'offer') {
    try {
      offerMediaTypes(session, roomType, sdpTypes);
      return true;
    } catch {
      return false;
    }
  }
  return session.hasPermission(Permission.PublishAudio) || session.hasPermission(Permission.PublishVideo);
}

/**
 * After a permission change (1.13): may a publisher with these media stay? A screen publisher
 * needs `publish-screen`; a video publisher needs `publish-media`, or `publish-audio` /
 * `publish-video` for each medium it carries.
 */
export function publisherStillAllowed(session: PermissionHolder, streamType: string, mediaTypes: number): boolean {
  if (streamType === 'screen') return session.hasPermission(Permission.PublishScreen);
  if (session.hasPermission(Permission.PublishMedia)) return true;
  if (mediaTypes & MediaType.Audio && !session.hasPermission(Permission.PublishAudio)) return false;
  if (mediaTypes & MediaType.Video && !session.hasPermission(Permission.PublishVideo)) return false;
  return true;
}
