/** In-call flags; must match Nextcloud's `Participant.php` (fact sheet 1.13). */
export const InCallFlag = {
  Disconnected: 0,
  InCall: 1,
  WithAudio: 2,
  WithVideo: 4,
  WithPhone: 8,
} as const;

/** Default flags of internal sessions without `internal-incall`: in call with audio (3). */
export const DEFAULT_INTERNAL_INCALL = InCallFlag.InCall | InCallFlag.WithAudio;
/** Default flags of virtual sessions without explicit `incall`: in call with phone (9). */
export const DEFAULT_VIRTUAL_INCALL = InCallFlag.InCall | InCallFlag.WithPhone;

/** Flags of virtual (phone) sessions, sent in `participants`/`flags` events. */
export const VirtualSessionFlag = {
  MutedSpeaking: 1,
  MutedListening: 2,
  Talking: 4,
} as const;

/**
 * Reads an `inCall` value as Nextcloud sends it: an integer, or a boolean (`true` ⇒ 1).
 * Anything else is `undefined`.
 */
export function inCallFlags(value: unknown): number | undefined {
  if (typeof value === 'boolean') return value ? InCallFlag.InCall : InCallFlag.Disconnected;
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  return undefined;
}

/** True if the in-call bit is set (accepts JSON `true`/`false` as well). */
export function isInCall(value: unknown): boolean {
  const flags = inCallFlags(value);
  return flags !== undefined && (flags & InCallFlag.InCall) !== 0;
}
