import { randomUUID } from 'node:crypto';
import {
  JanusTimeoutError,
  NoSuchPublisherError,
  type IceCandidate,
  type PublisherSettings,
  type PublisherStreamType,
} from '@talk-signaling/janus';
import type { ProxyClientMessage } from '@talk-signaling/protocol';
import type { Logger } from '@talk-signaling/runtime';
import type { ProxyConfig } from '../config/proxy-config';
import type { JanusBackend } from '../janus/janus-backend';
import type { RemotePublications } from '../remote/remote-publications';
import type { ProxySession } from '../session/proxy-session';
import { TokenError, type TokenClaims } from '../tokens/token-verifier';
import { commandResponse, errorMessage, eventMessage, knownError, payloadResponse } from './messages';
import type { ProxyClient, ProxyClients, PublisherClient, SubscriberClient } from './proxy-clients';
import type { ProxyMetrics } from './proxy-metrics';

type Command = Extract<ProxyClientMessage, { type: 'command' }>['command'];

/** Subscribing side of remote streams (see `remote/remote-subscribers.ts`). */
export interface RemoteStreams {
  createSubscriber(session: ProxySession, request: { publisherId: string; streamType: PublisherStreamType; remoteUrl: string }): Promise<SubscriberClient>;
}

export interface CommandHandlerOptions {
  config: ProxyConfig;
  backend: JanusBackend;
  clients: ProxyClients;
  metrics: ProxyMetrics;
  log: Logger;
  isShutdownScheduled: () => boolean;
  verifyToken: (token: string) => Promise<TokenClaims>;
  /** Publishing side of remote streams (always there: needs no configuration). */
  publications: RemotePublications;
  /** Subscribing side; absent without `[app] token_id`/`token_key`. */
  remote?: RemoteStreams;
}

const STREAM_TYPES: readonly string[] = ['video', 'screen'];

/**
 * Commands (`create-*`, `delete-*`, remote streams) of one session. Each client it
 * creates is registered with its session and closed in Janus when the session goes.
 */
export class CommandHandler {
  readonly #o: CommandHandlerOptions;
  readonly #log: Logger;

  constructor(options: CommandHandlerOptions) {
    this.#o = options;
    this.#log = options.log;
  }

  async command(session: ProxySession, id: string | undefined, cmd: Command): Promise<void> {
    this.#o.metrics.commandMessagesTotal.inc({ type: cmd.type });
    switch (cmd.type) {
      case 'create-publisher':
        return this.#createPublisher(session, id, cmd);
      case 'create-subscriber':
        return this.#createSubscriber(session, id, cmd);
      case 'delete-publisher':
      case 'delete-subscriber': {
        const kind = cmd.type === 'delete-publisher' ? 'publisher' : 'subscriber';
        const client = this.#o.clients.get(cmd.clientId ?? '');
        if (!client || client.kind !== kind || client.session !== session) {
          session.send(knownError(id, 'unknown_client'));
          return;
        }
        session.send(commandResponse(id, { id: client.id }));
        await this.close(client);
        return;
      }
      case 'publish-remote':
      case 'unpublish-remote': {
        const client = this.#o.clients.get(cmd.clientId ?? '');
        if (!client || client.kind !== 'publisher') {
          session.send(knownError(id, 'unknown_client'));
          return;
        }
        const hostname = cmd.hostname ?? '';
        const port = cmd.port ?? 0;
        const rtcpPort = cmd.rtcpPort ?? 0;
        try {
          if (cmd.type === 'publish-remote') await this.#o.publications.publish(client, session, hostname, port, rtcpPort);
          else await this.#o.publications.unpublish(client, session, hostname, port, rtcpPort);
        } catch (err) {
          this.#log.info({ err: (err as Error).message, client: client.id, hostname, port }, `${cmd.type} failed`);
          session.send(errorMessage(id, 'internal_error', (err as Error).message));
          return;
        }
        session.send(commandResponse(id, { id: client.id }));
        return;
      }
      case 'get-publisher-streams': {
        const client = this.#o.clients.get(cmd.clientId ?? '');
        if (!client || client.kind !== 'publisher') {
          session.send(knownError(id, 'unknown_client'));
          return;
        }
        const streams = client.publisher.streams();
        if (!streams) {
          session.send(errorMessage(id, 'internal_error', 'no offer and/or answer processed yet'));
          return;
        }
        session.send(commandResponse(id, { id: client.id, streams }));
        return;
      }
      default:
        session.send(knownError(id, 'unsupported_command'));
    }
  }

  /** Closes a client in Janus and forgets it. */
  async close(client: ProxyClient): Promise<void> {
    this.drop(client);
    if (client.kind === 'publisher') await client.publisher.close();
    else await client.subscriber.close();
  }

  /** Forgets a client (its Janus object is already gone or going). */
  drop(client: ProxyClient): void {
    if (!this.#o.clients.delete(client)) return;
    if (client.kind === 'publisher') this.#o.metrics.publishers.dec({ type: client.streamType });
    else this.#o.metrics.subscribers.dec({ type: client.streamType });
  }

  async #createPublisher(session: ProxySession, id: string | undefined, cmd: Command): Promise<void> {
    if (this.#o.isShutdownScheduled()) {
      session.send(knownError(id, 'shutdown_scheduled'));
      return;
    }
    const streamType = cmd.streamType ?? '';
    if (!STREAM_TYPES.includes(streamType)) {
      session.send(errorMessage(id, 'internal_error', `unsupported stream type ${streamType}`));
      return;
    }
    const janus = this.#o.backend.session;
    const registry = this.#o.backend.registry;
    if (!janus || !registry) {
      session.send(errorMessage(id, 'internal_error', 'not connected to janus'));
      return;
    }
    const type = streamType as PublisherStreamType;
    const requested = cmd.publisherSettings ?? { bitrate: cmd.bitrate, mediatypes: cmd.mediatypes };
    const max = type === 'screen' ? this.#o.config.mcu.maxscreenbitrate : this.#o.config.mcu.maxstreambitrate;
    const bitrate = requested.bitrate && requested.bitrate > 0 ? Math.min(requested.bitrate, max) : max;
    const clientId = randomUUID();
    const settings: PublisherSettings = { publisherId: clientId, streamType: type, bitrate, timeoutMs: this.#timeoutMs };
    const ps = cmd.publisherSettings;
    if (ps?.audiocodec) settings.audioCodec = ps.audiocodec;
    if (ps?.videocodec) settings.videoCodec = ps.videocodec;
    if (ps?.vp9_profile) settings.vp9Profile = ps.vp9_profile;
    if (ps?.h264_profile) settings.h264Profile = ps.h264_profile;
    let publisher;
    try {
      publisher = await registry.createPublisher(janus, settings);
    } catch (err) {
      this.#log.warn({ err: (err as Error).message, streamType }, 'could not create publisher');
      session.send(isTimeout(err) ? knownError(id, 'timeout_publisher') : errorMessage(id, 'internal_error', (err as Error).message));
      return;
    }
    if (session.closed) {
      // The session went while Janus worked: nobody can own this publisher.
      await publisher.close();
      return;
    }
    const client: PublisherClient = { kind: 'publisher', id: clientId, session, streamType: type, bitrate, publisher, sid: cmd.sid ?? '', queue: Promise.resolve() };
    this.#o.clients.add(client);
    this.#o.metrics.publishers.inc({ type });
    this.#o.metrics.publishersTotal.inc({ type });
    publisher.on('candidate', (candidate) => session.send(candidateMessage(clientId, candidate)));
    publisher.on('candidatesCompleted', () => session.send(eventMessage({ type: 'ice-completed', clientId })));
    publisher.once('close', () => {
      this.#o.publications.publisherClosed(client);
      if (this.#o.clients.get(clientId) !== client) return;
      this.drop(client);
      session.send(eventMessage({ type: 'publisher-closed', clientId }));
    });
    this.#log.info({ session: session.id, client: clientId, streamType, room: publisher.roomId }, 'publisher created');
    session.send(commandResponse(id, { id: clientId, bitrate }));
  }

  async #createSubscriber(session: ProxySession, id: string | undefined, cmd: Command): Promise<void> {
    const streamType = cmd.streamType ?? '';
    const publisherId = cmd.publisherId ?? '';
    if (!STREAM_TYPES.includes(streamType)) {
      session.send(errorMessage(id, 'internal_error', `unsupported stream type ${streamType}`));
      return;
    }
    const type = streamType as PublisherStreamType;
    let client: SubscriberClient;
    if (cmd.remoteUrl) {
      const remote = this.#o.remote;
      // Janus < 1.1 has no remote publishers.
      if (!remote || (this.#o.backend.connected && !this.#o.backend.remoteStreams)) {
        session.send(knownError(id, 'unsupported_subscriber'));
        return;
      }
      let claims: TokenClaims;
      try {
        claims = await this.#o.verifyToken(cmd.remoteToken ?? '');
      } catch (err) {
        if (err instanceof TokenError) {
          session.send(knownError(id, err.code));
          return;
        }
        throw err;
      }
      if (claims.sub !== publisherId) {
        session.send(knownError(id, 'auth_failed'));
        return;
      }
      try {
        client = await remote.createSubscriber(session, { publisherId, streamType: type, remoteUrl: cmd.remoteUrl });
      } catch (err) {
        this.#log.warn({ err: (err as Error).message, publisherId, remoteUrl: cmd.remoteUrl }, 'could not create remote subscriber');
        session.send(isTimeout(err) ? knownError(id, 'timeout_subscriber') : errorMessage(id, 'internal_error', (err as Error).message));
        return;
      }
    } else {
      const janus = this.#o.backend.session;
      const registry = this.#o.backend.registry;
      if (!janus || !registry) {
        session.send(errorMessage(id, 'internal_error', 'not connected to janus'));
        return;
      }
      let subscriber;
      try {
        subscriber = await registry.createSubscriber(janus, {
          owner: session.id,
          publisherId,
          streamType: type,
          publisherTimeoutMs: this.#timeoutMs,
          timeoutMs: this.#timeoutMs,
          joinTimeoutMs: this.#timeoutMs,
        });
      } catch (err) {
        this.#log.info({ err: (err as Error).message, publisherId, streamType }, 'could not create subscriber');
        session.send(isTimeout(err) ? knownError(id, 'timeout_subscriber') : errorMessage(id, 'internal_error', (err as Error).message));
        return;
      }
      const bitrate = registry.getPublisher(publisherId, type)?.bitrate ?? 0;
      client = { kind: 'subscriber', id: randomUUID(), session, streamType: type, bitrate, subscriber, queue: Promise.resolve() };
    }
    const subscriber = client.subscriber;
    if (session.closed) {
      await subscriber.close();
      return;
    }
    const clientId = client.id;
    this.#o.clients.add(client);
    this.#o.metrics.subscribers.inc({ type });
    this.#o.metrics.subscribersTotal.inc({ type });
    subscriber.on('offer', (offer) => session.send(payloadResponse(undefined, 'offer', clientId, { offer })));
    subscriber.on('candidate', (candidate) => session.send(candidateMessage(clientId, candidate)));
    subscriber.on('candidatesCompleted', () => session.send(eventMessage({ type: 'ice-completed', clientId })));
    subscriber.on('sid', (sid) => session.send(eventMessage({ type: 'subscriber-sid-updated', clientId, sid })));
    subscriber.once('close', () => {
      if (this.#o.clients.get(clientId) !== client) return;
      this.drop(client);
      session.send(eventMessage({ type: 'subscriber-closed', clientId }));
    });
    this.#log.info({ session: session.id, client: clientId, publisherId, streamType, remote: cmd.remoteUrl }, 'subscriber created');
    session.send(commandResponse(id, { id: clientId, sid: subscriber.sid }));
  }

  get #timeoutMs(): number {
    return this.#o.config.mcu.timeout * 1000;
  }
}

function candidateMessage(clientId: string, candidate: IceCandidate): object {
  return payloadResponse(undefined, 'candidate', clientId, { candidate });
}

function isTimeout(err: unknown): boolean {
  return err instanceof NoSuchPublisherError || err instanceof JanusTimeoutError;
}
