export { FakeNextcloud, startFakeNextcloud, TalkErrors, DEFAULT_FEATURES, defaultRoomProperties } from './fake-nextcloud';
export type { FakeNextcloudOptions, RecordedRequest, FakeRoom, FailureMode, TalkError } from './fake-nextcloud';
export type { HelloV2Algorithm } from './hello-v2-keys';
export { checksum, newRandom } from './checksum';
