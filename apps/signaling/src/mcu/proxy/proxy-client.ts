import { EventEmitter } from 'node:events';
import type { Logger } from '@talk-signaling/runtime';
import { SerialQueue } from '../serial-queue';
import type { SfuJsep, SfuPublisherEvents, SfuStreamType, SfuSubscriberEvents } from '../sfu';
import type { ProxyClientHandler, ProxyConnection } from './proxy-connection';

/** Largest SDP we pass on from a proxy (bytes); a bigger one is treated as garbage. */
const MAX_SDP_BYTES = 512 * 1024;

/**
 * A session description from a proxy, rebuilt from its two string fields so that nothing else
 * the proxy put there (deep nesting, huge extras) reaches clients. Undefined when not one.
 */
export function jsepFrom(value: unknown, type: 'offer' | 'answer'): SfuJsep | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (v['type'] !== type || typeof v['sdp'] !== 'string' || v['sdp'].length > MAX_SDP_BYTES) return undefined;
  return { type, sdp: v['sdp'] };
}

/** An ICE candidate from a proxy, rebuilt from the fields browsers use. */
export function candidateFrom(value: unknown): Record<string, unknown> | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v['candidate'] !== 'string' || v['candidate'].length > 4096) return undefined;
  const out: Record<string, unknown> = { candidate: v['candidate'] };
  if (typeof v['sdpMid'] === 'string' && v['sdpMid'].length <= 256) out['sdpMid'] = v['sdpMid'];
  if (typeof v['sdpMLineIndex'] === 'number' && Number.isInteger(v['sdpMLineIndex'])) out['sdpMLineIndex'] = v['sdpMLineIndex'];
  if (typeof v['usernameFragment'] === 'string' && v['usernameFragment'].length <= 256) out['usernameFragment'] = v['usernameFragment'];
  return out;
}

export type ClientEvents = { candidate: [candidate: unknown]; offer: [jsep: SfuJsep]; close: [] };

/**
 * What publishers and subscribers on a proxy share: the proxy client id, the connection it
 * lives on, the in-order queue of the client's messages, closing (`delete-*`) and being
 * dropped when the proxy loses it.
 */
export abstract class ProxyClient<E extends Record<keyof E, unknown[]> & (SfuPublisherEvents | SfuSubscriberEvents)> extends EventEmitter<E> implements ProxyClientHandler {
  readonly streamType: SfuStreamType;
  /** The proxy's id of this publisher or subscriber. */
  readonly clientId: string;
  readonly connection: ProxyConnection;
  protected readonly log: Logger;
  protected readonly queue = new SerialQueue();
  #closed = false;
  /** The events every client has, typed (TypeScript cannot check `emit` on a generic emitter). */
  get #emitter(): EventEmitter<ClientEvents> {
    return this as unknown as EventEmitter<ClientEvents>;
  }

  constructor(connection: ProxyConnection, clientId: string, streamType: SfuStreamType, log: Logger) {
    super();
    this.connection = connection;
    this.clientId = clientId;
    this.streamType = streamType;
    this.log = log;
  }

  get closed(): boolean {
    return this.#closed;
  }

  protected abstract readonly deleteCommand: 'delete-publisher' | 'delete-subscriber';

  onPayload(type: string, payload: Record<string, unknown> | null | undefined): void {
    switch (type) {
      case 'candidate': {
        const candidate = candidateFrom(payload?.['candidate']);
        if (candidate) this.#emitter.emit('candidate', candidate);
        else this.log.warn('proxy sent an unusable candidate; dropped');
        return;
      }
      case 'offer': {
        const offer = jsepFrom(payload?.['offer'], 'offer');
        if (offer) this.onOffer(offer);
        else this.log.warn('proxy sent an unusable offer; dropped');
        return;
      }
      default:
        this.log.warn({ type }, 'unsupported payload from the proxy');
    }
  }

  /** A renegotiation offer from the proxy (subscribers pass it on). */
  protected onOffer(_offer: SfuJsep): void {
    this.log.warn('proxy sent an offer for a publisher; dropped');
  }

  abstract onEvent(event: { type: string; sid?: string | undefined }): void;

  onLost(why: string): void {
    this.log.info({ why }, 'dropped with the proxy');
    this.finish();
  }

  /** Deletes the client on the proxy (best effort: a lost proxy has dropped it already). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#end();
    try {
      if (this.connection.connected) await this.connection.command({ type: this.deleteCommand, clientId: this.clientId });
    } catch (err) {
      this.log.info({ err: (err as Error).message }, `${this.deleteCommand} failed`);
    } finally {
      // Only now: an unused connection may close itself, which must not happen before the delete.
      this.connection.removeClient(this.clientId);
    }
  }

  /** Ends the wrapper without telling the proxy. */
  protected finish(): void {
    if (this.#closed) return;
    this.connection.removeClient(this.clientId);
    this.#end();
  }

  #end(): void {
    this.#closed = true;
    this.onFinish();
    this.#emitter.emit('close');
  }

  protected abstract onFinish(): void;

  /** A `payload` request whose answer carries a session description. */
  protected async jsepRequest(type: string, sid: string | undefined, payload: Record<string, unknown> | undefined, want: 'offer' | 'answer'): Promise<SfuJsep> {
    const response = await this.sendPayload(type, sid, payload);
    const jsep = jsepFrom(response, want);
    if (!jsep) throw new Error(`proxy answered ${type} without a usable ${want}`);
    return jsep;
  }

  protected async sendPayload(type: string, sid: string | undefined, payload: Record<string, unknown> | undefined): Promise<Record<string, unknown> | null | undefined> {
    if (this.#closed) throw new Error(`${this.deleteCommand === 'delete-publisher' ? 'publisher' : 'subscriber'} closed`);
    const response = await this.connection.payload({ type, clientId: this.clientId, ...(sid ? { sid } : {}), ...(payload ? { payload } : {}) });
    return response.type === 'payload' ? response.payload.payload : undefined;
  }
}
