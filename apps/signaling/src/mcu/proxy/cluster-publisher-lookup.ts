import type { PublisherInfo } from '@talk-signaling/cluster';
import type { RemotePublisherLookup } from './proxy-sfu';

/** What the lookup needs of a cluster peer (`ClusterPeer` fits). */
export interface PublisherPeer {
  getPublisherId(sessionId: string, streamType: string, opts: { signal?: AbortSignal }): Promise<PublisherInfo | undefined>;
}

/**
 * Asks every other signaling node at once for a publisher (upstream: one `GetPublisherId` per
 * gRPC client, the first that finds it wins, the rest are cancelled). A peer that fails counts
 * as "not there".
 */
export function clusterPublisherLookup(peers: () => readonly PublisherPeer[]): RemotePublisherLookup {
  return (publisherId, streamType, signal) => {
    const asked = peers();
    if (asked.length === 0) return Promise.resolve(undefined);
    const abort = new AbortController();
    const stop = (): void => abort.abort();
    signal.addEventListener('abort', stop);
    return new Promise<PublisherInfo | undefined>((resolve) => {
      let pending = asked.length;
      for (const peer of asked) {
        peer
          .getPublisherId(publisherId, streamType, { signal: abort.signal })
          .catch(() => undefined)
          .then((info) => {
            pending -= 1;
            if (info && info.publisherId) resolve(info);
            else if (pending === 0) resolve(undefined);
          });
      }
    }).finally(() => {
      signal.removeEventListener('abort', stop);
      abort.abort();
    });
  };
}
