import type { IceCandidate, Jsep, StreamSelection } from '@talk-signaling/janus';
import type { ProxyClientMessage } from '@talk-signaling/protocol';
import type { Logger } from '@talk-signaling/runtime';
import type { ProxyConfig } from '../config/proxy-config';
import type { ProxySession } from '../session/proxy-session';
import { CandidateFilter } from './candidate-filter';
import { errorMessage, knownError, payloadResponse } from './messages';
import type { ProxyClient, ProxyClients } from './proxy-clients';
import type { ProxyMetrics } from './proxy-metrics';

type Payload = Extract<ProxyClientMessage, { type: 'payload' }>['payload'];

const PAYLOAD_TYPES: readonly string[] = ['offer', 'answer', 'candidate', 'endOfCandidates', 'requestoffer', 'sendoffer', 'selectStream'];

export interface PayloadHandlerOptions {
  config: ProxyConfig;
  clients: ProxyClients;
  metrics: ProxyMetrics;
  log: Logger;
}

/**
 * Payloads (SDP, candidates, stream selection) for the clients of a session, one at a time per
 * client, answered with Janus's jsep or `null`. Client candidates pass the candidate filter.
 */
export class PayloadHandler {
  readonly #o: PayloadHandlerOptions;
  readonly #log: Logger;
  readonly #candidates: CandidateFilter;

  constructor(options: PayloadHandlerOptions) {
    this.#o = options;
    this.#log = options.log;
    this.#candidates = new CandidateFilter(options.config.mcu.allowedcandidates, options.config.mcu.blockedcandidates);
  }

  async handle(session: ProxySession, id: string | undefined, payload: Payload): Promise<void> {
    const client = this.#o.clients.get(payload.clientId);
    if (!client || client.session !== session) {
      session.send(knownError(id, 'unknown_client'));
      return;
    }
    this.#o.metrics.payloadMessagesTotal.inc({ type: payload.type });
    if (!PAYLOAD_TYPES.includes(payload.type)) {
      session.send(knownError(id, 'unsupported_payload'));
      return;
    }
    if (payload.type === 'endOfCandidates') {
      // Confirmed, not passed to Janus (upstream).
      session.send(payloadResponse(id, payload.type, client.id, null));
      return;
    }
    const run = async (): Promise<void> => {
      try {
        const result = await this.#applyPayload(client, payload);
        session.send(payloadResponse(id, payload.type, client.id, result));
      } catch (err) {
        this.#log.info({ err: (err as Error).message, client: client.id, type: payload.type }, 'payload failed');
        session.send(errorMessage(id, 'internal_error', (err as Error).message));
      }
    };
    // One payload at a time per client: the offer is configured before its candidates arrive.
    const next = client.queue.then(run);
    client.queue = next;
    await next;
  }

  /** Runs one payload against Janus; returns the response payload (jsep or null). */
  async #applyPayload(client: ProxyClient, payload: Payload): Promise<Record<string, unknown> | null> {
    const body = payload.payload ?? {};
    const sid = payload.sid ?? '';
    if (client.kind === 'publisher') {
      const publisher = client.publisher;
      switch (payload.type) {
        case 'offer': {
          const offer = toJsep(body, 'offer');
          return { ...(await publisher.offer({ ...offer, sdp: this.#candidates.filterSdp(offer.sdp) })) };
        }
        case 'candidate': {
          // Upstream compares with the sid the signaling server gave in `create-publisher`, not Janus's handle.
          if (sid !== '' && sid !== client.sid) throw new Error(`candidate message sid (${sid}) does not match publisher sid (${client.sid})`);
          const candidate = toCandidate(body);
          // A filtered candidate is dropped silently (upstream).
          if (!this.#candidates.filtered(candidate.candidate)) await publisher.trickle(candidate);
          return null;
        }
        default:
          // Upstream answers other types for publishers with an error as well.
          throw new Error(`unsupported message type: ${payload.type}`);
      }
    }
    const subscriber = client.subscriber;
    switch (payload.type) {
      case 'requestoffer':
      case 'sendoffer':
        // The request's own payload is not forwarded by the proxy (selection via selectStream).
        return { ...(await subscriber.requestOffer(undefined, sid)) };
      case 'answer': {
        if (sid !== '' && sid !== subscriber.sid) throw new Error(`answer message sid (${sid}) does not match subscriber sid (${subscriber.sid})`);
        const answer = toJsep(body, 'answer');
        await subscriber.start({ ...answer, sdp: this.#candidates.filterSdp(answer.sdp) });
        return null;
      }
      case 'candidate': {
        if (sid !== '' && sid !== subscriber.sid) throw new Error(`candidate message sid (${sid}) does not match subscriber sid (${subscriber.sid})`);
        const candidate = toCandidate(body);
        if (!this.#candidates.filtered(candidate.candidate)) await subscriber.trickle(candidate);
        return null;
      }
      case 'selectStream':
        await subscriber.selectStream(toSelection(body));
        return null;
      default:
        throw new Error(`unsupported message type: ${payload.type}`);
    }
  }
}

function toJsep(body: Record<string, unknown>, type: 'offer' | 'answer'): Jsep {
  const sdp = body['sdp'];
  if (typeof sdp !== 'string' || sdp === '') throw new Error(`no sdp found in ${type}`);
  return { type, sdp };
}

function toCandidate(body: Record<string, unknown>): IceCandidate {
  const candidate = body['candidate'];
  if (typeof candidate !== 'object' || candidate === null || typeof (candidate as { candidate?: unknown }).candidate !== 'string') {
    throw new Error('invalid candidate');
  }
  return candidate as IceCandidate;
}

/** `selectStream` fields: `substream`/`temporal` numbers, `audio`/`video` booleans (upstream). */
function toSelection(body: Record<string, unknown>): StreamSelection {
  const selection: StreamSelection = {};
  for (const key of ['substream', 'temporal'] as const) {
    const value = body[key];
    if (value === undefined) continue;
    if (typeof value !== 'number') throw new Error(`${key} must be a number`);
    selection[key] = value;
  }
  for (const key of ['audio', 'video'] as const) {
    const value = body[key];
    if (value === undefined) continue;
    if (typeof value !== 'boolean') throw new Error(`${key} must be a boolean`);
    selection[key] = value;
  }
  return selection;
}

