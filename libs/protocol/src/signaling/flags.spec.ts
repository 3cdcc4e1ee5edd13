import { DEFAULT_INTERNAL_INCALL, DEFAULT_VIRTUAL_INCALL, inCallFlags, InCallFlag, isInCall, VirtualSessionFlag } from './flags';
import { DEFAULT_PERMISSIONS, Permission } from './permission';

describe('flags and permissions (1.13)', () => {
  it('match Nextcloud values', () => {
    expect(InCallFlag).toEqual({ Disconnected: 0, InCall: 1, WithAudio: 2, WithVideo: 4, WithPhone: 8 });
    expect(VirtualSessionFlag).toEqual({ MutedSpeaking: 1, MutedListening: 2, Talking: 4 });
    expect(DEFAULT_INTERNAL_INCALL).toBe(3);
    expect(DEFAULT_VIRTUAL_INCALL).toBe(9);
  });

  it('reads in-call values as int or bool', () => {
    expect(inCallFlags(true)).toBe(1);
    expect(inCallFlags(false)).toBe(0);
    expect(inCallFlags(7)).toBe(7);
    expect(inCallFlags('1')).toBeUndefined();
    expect(isInCall(3)).toBe(true);
    expect(isInCall(2)).toBe(false);
    expect(isInCall(true)).toBe(true);
    expect(isInCall(null)).toBe(false);
  });

  it('lists permissions; the default set lacks hide-displaynames', () => {
    expect(Object.values(Permission)).toHaveLength(7);
    expect(DEFAULT_PERMISSIONS).not.toContain(Permission.HideDisplayNames);
    expect(DEFAULT_PERMISSIONS).toHaveLength(6);
  });
});
