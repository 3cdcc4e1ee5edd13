/** Permission ids granted by Nextcloud (fact sheet 1.13). */
export const Permission = {
  PublishMedia: 'publish-media',
  PublishAudio: 'publish-audio',
  PublishVideo: 'publish-video',
  PublishScreen: 'publish-screen',
  Control: 'control',
  TransientData: 'transient-data',
  HideDisplayNames: 'hide-displaynames',
} as const;

/** Any value of {@link Permission}. */
export type PermissionId = (typeof Permission)[keyof typeof Permission];

/**
 * Permissions of a session that never received a list ("old-style" sessions): everything
 * except `hide-displaynames`.
 */
export const DEFAULT_PERMISSIONS: readonly PermissionId[] = Object.freeze([
  Permission.PublishMedia,
  Permission.PublishAudio,
  Permission.PublishVideo,
  Permission.PublishScreen,
  Permission.Control,
  Permission.TransientData,
]);
