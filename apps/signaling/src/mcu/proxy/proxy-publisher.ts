import type { Logger } from '@talk-signaling/runtime';
import type { SfuPublisherEvents, SfuJsep, SfuPublisher, SfuPublisherRequest } from '../sfu';
import { ProxyClient } from './proxy-client';
import type { ProxyConnection } from './proxy-connection';

/**
 * A published stream on a proxy. Unlike the Janus one it does not survive its proxy: when the
 * proxy loses it (proxy gone, its Janus gone, session not resumed) it closes, and the client's
 * next offer places a new publisher on a proxy that works.
 */
export class ProxySfuPublisher extends ProxyClient<SfuPublisherEvents> implements SfuPublisher {
  readonly publisherId: string;
  readonly sid: string;
  readonly bitrate: number;
  mediaTypes: number;
  protected readonly deleteCommand = 'delete-publisher';
  readonly #onFinish: () => void;

  constructor(connection: ProxyConnection, clientId: string, request: SfuPublisherRequest, bitrate: number, log: Logger, onFinish: () => void) {
    super(connection, clientId, request.streamType, log);
    this.publisherId = request.publisherId;
    this.sid = request.sid;
    this.bitrate = bitrate;
    this.mediaTypes = request.mediaTypes;
    this.#onFinish = onFinish;
  }

  offer(jsep: SfuJsep): Promise<SfuJsep> {
    return this.queue.run(() => this.jsepRequest('offer', this.sid, { ...jsep }, 'answer'));
  }

  trickle(candidate: unknown): Promise<void> {
    return this.queue.run(async () => {
      await this.sendPayload('candidate', this.sid, { candidate });
    });
  }

  onEvent(event: { type: string }): void {
    switch (event.type) {
      case 'publisher-closed':
        this.log.info('the proxy closed the publisher');
        this.finish();
        return;
      case 'ice-completed':
        return;
      default:
        this.log.debug({ type: event.type }, 'unsupported publisher event from the proxy');
    }
  }

  protected onFinish(): void {
    this.#onFinish();
  }
}
