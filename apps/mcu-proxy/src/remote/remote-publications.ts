import type { Logger } from '@talk-signaling/runtime';
import type { PublisherClient } from '../server/proxy-clients';
import type { ProxySession } from '../session/proxy-session';

interface Publication {
  client: PublisherClient;
  remoteId: string;
}

/**
 * Publishing side of remote streams: which session (another proxy) asked for which publisher to
 * be forwarded where (`publish-remote`). Forwardings end with `unpublish-remote`, with the
 * asking session, or with the publisher (then that session is told `publisher-closed`).
 */
export class RemotePublications {
  readonly #bySession = new Map<ProxySession, Map<string, Publication>>();
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  /** Upstream's forwarding id: `<publisher>-<session>@<host>:<port>:<rtcp port>`. */
  static remoteId(client: PublisherClient, session: ProxySession, host: string, port: number, rtcpPort: number): string {
    return `${client.id}-${session.id}@${host}:${port}:${rtcpPort}`;
  }

  async publish(client: PublisherClient, session: ProxySession, host: string, port: number, rtcpPort: number): Promise<void> {
    const remoteId = RemotePublications.remoteId(client, session, host, port, rtcpPort);
    await client.publisher.publishRemotely({ remoteId, host, port, rtcpPort });
    let entries = this.#bySession.get(session);
    if (!entries) {
      entries = new Map();
      this.#bySession.set(session, entries);
    }
    entries.set(remoteId, { client, remoteId });
    this.#log.info({ client: client.id, remoteId }, 'publishing remotely');
  }

  async unpublish(client: PublisherClient, session: ProxySession, host: string, port: number, rtcpPort: number): Promise<void> {
    const remoteId = RemotePublications.remoteId(client, session, host, port, rtcpPort);
    await client.publisher.unpublishRemotely(remoteId);
    this.#bySession.get(session)?.delete(remoteId);
  }

  /** The asking proxy's session is gone: stop its forwardings. */
  async sessionClosed(session: ProxySession): Promise<void> {
    const entries = this.#bySession.get(session);
    this.#bySession.delete(session);
    for (const { client, remoteId } of entries?.values() ?? []) {
      if (client.publisher.closed) continue;
      await client.publisher.unpublishRemotely(remoteId).catch((err: unknown) => this.#log.info({ err, remoteId }, 'could not unpublish remotely'));
    }
  }

  /** A publisher closed: every session it was forwarded to hears `publisher-closed`. */
  publisherClosed(client: PublisherClient): void {
    for (const [session, entries] of this.#bySession) {
      let told = false;
      for (const [remoteId, entry] of entries) {
        if (entry.client !== client) continue;
        entries.delete(remoteId);
        if (!told && session !== client.session) session.send({ type: 'event', event: { type: 'publisher-closed', clientId: client.id } });
        told = true;
      }
    }
  }
}
