import { ClientFeature, ServerFeature, sortedFeatures } from './features';

describe('features', () => {
  it('sorts and de-duplicates', () => {
    expect(sortedFeatures(['welcome', 'dialout', 'hello-v2', 'dialout'])).toEqual(['dialout', 'hello-v2', 'welcome']);
    expect(sortedFeatures(new Set<string>())).toEqual([]);
  });

  it('has the upstream ids', () => {
    expect(ServerFeature.AudioVideoPermissions).toBe('audio-video-permissions');
    expect(ServerFeature.TransientSessiondata).toBe('transient-sessiondata');
    expect(ServerFeature.RecipientCall).toBe('recipient-call');
    expect(Object.values(ServerFeature)).toHaveLength(18);
    expect(ClientFeature).toEqual({
      InternalInCall: 'internal-incall',
      StartDialout: 'start-dialout',
      ChatRelay: 'chat-relay',
    });
  });
});
