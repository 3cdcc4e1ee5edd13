import { silentLogger } from '@talk-signaling/runtime';
import { Capabilities, CAPABILITIES_CACHE_MS, capabilitiesUrl, MAX_INVALIDATE_INTERVAL_MS } from './capabilities';

const BACKEND = 'https://cloud.example.com/ocs/v2.php/apps/spreed/api/v1/signaling/backend';

function capsData(features: string[], signaling: Record<string, unknown> = {}): unknown {
  return {
    version: { major: 28, minor: 0, micro: 0, string: '28.0.0', edition: '', extendedSupport: false },
    capabilities: { spreed: { features, config: { signaling } } },
  };
}

/** A fetcher answering from a script, recording URLs; `hold()` keeps answers pending. */
class FakeFetcher {
  readonly urls: string[] = [];
  answer: () => unknown = () => capsData(['signaling-v3'], { 'hello-v2-token-key': 'key-1', 'session-ping-limit': 50 });
  #held: (() => void)[] | undefined;

  hold(): void {
    this.#held = [];
  }

  release(): void {
    const held = this.#held ?? [];
    this.#held = undefined;
    for (const go of held) go();
  }

  getJson = async (url: string): Promise<unknown> => {
    this.urls.push(url);
    if (this.#held) await new Promise<void>((resolve) => this.#held!.push(resolve));
    return this.answer();
  };
}

describe('capabilitiesUrl', () => {
  it.each([
    [BACKEND, 'https://cloud.example.com/ocs/v2.php/cloud/capabilities'],
    ['https://cloud.example.com/nc/ocs/v2.php/apps/spreed/api/v3/signaling/backend', 'https://cloud.example.com/nc/ocs/v2.php/cloud/capabilities'],
    ['https://cloud.example.com/', 'https://cloud.example.com/ocs/v2.php/cloud/capabilities'],
    ['https://cloud.example.com', 'https://cloud.example.com/ocs/v2.php/cloud/capabilities'],
    ['https://cloud.example.com/nextcloud', 'https://cloud.example.com/nextcloud/ocs/v2.php/cloud/capabilities'],
    ['http://127.0.0.1:8080/nc/', 'http://127.0.0.1:8080/nc/ocs/v2.php/cloud/capabilities'],
  ])('%s -> %s', (backend, expected) => {
    expect(capabilitiesUrl(backend)).toBe(expected);
  });
});

describe('Capabilities', () => {
  let clock: number;
  let fetcher: FakeFetcher;
  let caps: Capabilities;

  beforeEach(() => {
    clock = 1_700_000_000_000;
    fetcher = new FakeFetcher();
    caps = new Capabilities({ client: fetcher, log: silentLogger(), now: () => clock });
  });

  it('fetches from the derived URL and reads features and signaling config', async () => {
    expect(await caps.hasFeature(BACKEND, 'signaling-v3')).toBe(true);
    expect(await caps.hasFeature(BACKEND, 'chat-v2')).toBe(false);
    expect(await caps.hasSignalingV3(BACKEND)).toBe(true);
    expect(await caps.getString(BACKEND, 'hello-v2-token-key')).toBe('key-1');
    expect(await caps.getString(BACKEND, 'session-ping-limit')).toBeUndefined();
    expect(await caps.getNumber(BACKEND, 'session-ping-limit')).toBe(50);
    expect(await caps.sessionPingLimit(BACKEND)).toBe(50);
    expect(fetcher.urls).toEqual(['https://cloud.example.com/ocs/v2.php/cloud/capabilities']);
  });

  it('caches per backend URL string for one hour', async () => {
    const other = 'https://cloud.example.com/ocs/v2.php/apps/spreed/api/v3/signaling/backend';
    await caps.getCapabilities(BACKEND);
    await caps.getCapabilities(other);
    expect(fetcher.urls).toHaveLength(2); // same capabilities URL, different cache keys

    clock += CAPABILITIES_CACHE_MS - 1;
    expect(await caps.lookup(BACKEND)).toMatchObject({ cached: true });
    expect(fetcher.urls).toHaveLength(2);

    clock += 1;
    fetcher.answer = () => capsData([]);
    expect(await caps.lookup(BACKEND)).toEqual({ capabilities: { features: [], config: { signaling: {} } }, cached: false });
    expect(await caps.hasFeature(BACKEND, 'signaling-v3')).toBe(false);
    expect(fetcher.urls).toHaveLength(3);
  });

  it('invalidates at most once per minute per URL', async () => {
    await caps.getCapabilities(BACKEND);
    expect(caps.invalidate(BACKEND)).toBe(true);
    await caps.getCapabilities(BACKEND);
    expect(fetcher.urls).toHaveLength(2);

    clock += MAX_INVALIDATE_INTERVAL_MS - 1;
    expect(caps.invalidate(BACKEND)).toBe(false);
    expect(await caps.lookup(BACKEND)).toMatchObject({ cached: true });
    expect(fetcher.urls).toHaveLength(2);

    // Another key has its own limit.
    expect(caps.invalidate('https://other.example.com/')).toBe(true);

    clock += 1;
    expect(caps.invalidate(BACKEND)).toBe(true);
    expect(await caps.lookup(BACKEND)).toMatchObject({ cached: false });
    expect(fetcher.urls).toHaveLength(3);
  });

  it('helloV2TokenKey with forceRefresh refetches, subject to the invalidation limit', async () => {
    expect(await caps.helloV2TokenKey(BACKEND)).toEqual({ key: 'key-1', cached: false });
    expect(await caps.helloV2TokenKey(BACKEND)).toEqual({ key: 'key-1', cached: true });
    fetcher.answer = () => capsData([], { 'hello-v2-token-key': 'key-2' });
    expect(await caps.helloV2TokenKey(BACKEND, { forceRefresh: true })).toEqual({ key: 'key-2', cached: false });
    fetcher.answer = () => capsData([], { 'hello-v2-token-key': 'key-3' });
    expect(await caps.helloV2TokenKey(BACKEND, { forceRefresh: true })).toEqual({ key: 'key-2', cached: true });
    expect(fetcher.urls).toHaveLength(2);
  });

  it('coalesces concurrent fetches for the same URL into one request', async () => {
    fetcher.hold();
    const first = caps.lookup(BACKEND);
    const second = caps.getCapabilities(BACKEND);
    const v3 = caps.hasFeature(BACKEND, 'signaling-v3');
    const limit = caps.sessionPingLimit(BACKEND);
    const otherUrl = caps.getCapabilities('https://other.example.com/');
    await Promise.resolve();
    expect(fetcher.urls).toEqual(['https://cloud.example.com/ocs/v2.php/cloud/capabilities', 'https://other.example.com/ocs/v2.php/cloud/capabilities']);
    fetcher.release();
    const firstResult = await first;
    expect(firstResult).toMatchObject({ cached: false, capabilities: { features: ['signaling-v3'] } });
    expect(await second).toBe(firstResult.capabilities);
    expect(await v3).toBe(true);
    expect(await limit).toBe(50);
    await otherUrl;
    await caps.getCapabilities(BACKEND);
    expect(fetcher.urls).toHaveLength(2);
  });

  it('treats failures as absent and does not cache them', async () => {
    fetcher.answer = () => {
      throw new Error('connection refused');
    };
    expect(await caps.getCapabilities(BACKEND)).toBeUndefined();
    expect(await caps.hasFeature(BACKEND, 'signaling-v3')).toBe(false);
    expect(await caps.helloV2TokenKey(BACKEND)).toEqual({ key: undefined, cached: false });
    expect(await caps.sessionPingLimit(BACKEND)).toBeUndefined();
    expect(fetcher.urls).toHaveLength(4);

    // Coalesced callers share one failure.
    fetcher.hold();
    const both = Promise.all([caps.getCapabilities(BACKEND), caps.getCapabilities(BACKEND)]);
    await Promise.resolve();
    fetcher.release();
    expect(await both).toEqual([undefined, undefined]);
    expect(fetcher.urls).toHaveLength(5);
  });

  it('does not cache answers without spreed capabilities', async () => {
    fetcher.answer = () => ({ version: {}, capabilities: { core: {} } });
    expect(await caps.getCapabilities(BACKEND)).toBeUndefined();
    fetcher.answer = () => ({ version: {}, capabilities: { spreed: [] } }); // PHP's empty array
    expect(await caps.getCapabilities(BACKEND)).toBeUndefined();
    expect(fetcher.urls).toHaveLength(2);
  });

  it('ignores values of the wrong type and non-positive ping limits', async () => {
    fetcher.answer = () => capsData([], { 'hello-v2-token-key': 42, 'session-ping-limit': '50' });
    expect(await caps.helloV2TokenKey(BACKEND)).toEqual({ key: undefined, cached: false });
    expect(await caps.getNumber(BACKEND, 'session-ping-limit')).toBeUndefined();
    caps.invalidate(BACKEND);
    fetcher.answer = () => capsData([], { 'session-ping-limit': 0 });
    expect(await caps.getNumber(BACKEND, 'session-ping-limit')).toBe(0);
    expect(await caps.sessionPingLimit(BACKEND)).toBeUndefined();
    clock += MAX_INVALIDATE_INTERVAL_MS;
    caps.invalidate(BACKEND);
    fetcher.answer = () => capsData([], { 'session-ping-limit': 12.9 });
    expect(await caps.sessionPingLimit(BACKEND)).toBe(12);
  });
});
