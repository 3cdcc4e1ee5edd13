import {
  ALTERNATIVE_ERROR_MESSAGES,
  classifyMcuMessageData,
  InCallFlag,
  NOT_ALLOWED_MESSAGES,
  ServerFeature,
  SignalingError,
  signalingError,
  type McuMessageData,
  type MessageClientPayload,
} from '@talk-signaling/protocol';
import type { Logger } from '@talk-signaling/runtime';
import type { FeatureSet } from '../hub/feature-set';
import type { Hub, SessionListener } from '../hub/hub';
import type { Router } from '../delivery/router';
import type { SendOffer } from '../delivery/async-message';
import { errorFrame, serverFrame } from '../delivery/server-frames';
import type { SessionRegistry } from '../hub/session-registry';
import type { ClientSession } from '../session/client-session';
import type { SessionEvents } from '../session/session-events';
import { VirtualSession } from '../session/virtual-session';
import type { McuMetrics } from './mcu-metrics';
import { isAllowedToSend, McuPermissionError, offerMediaTypes, publisherStillAllowed } from './mcu-permissions';
import { McuSessionState } from './mcu-session-state';
import { inSameCall, type RemoteCallCheck } from './same-call';
import { isStreamType, streamSelection } from './stream-selection';
import { SdpError, sdpMediaTypes } from './sdp-media';
import type { Sfu, SfuJsep, SfuPublisher, SfuStreamType, SfuSubscriber } from './sfu';

/** Upstream `cleanupScreenPublisherDelay`: Firefox does not always hang up a screen share. */
export const UNSHARE_SCREEN_DELAY_MS = 1_000;

/** Features that only hold while the MCU is usable. */
const MCU_FEATURES = [ServerFeature.Mcu, ServerFeature.Simulcast, ServerFeature.UpdateSdp, ServerFeature.OfferCodecs];

export interface McuHandlerDeps {
  sfu: Sfu;
  hub: Hub;
  router: Router;
  /** Sessions leaving their room or changed by others release what they no longer may hold. */
  events: SessionEvents;
  sessions: SessionRegistry;
  features: FeatureSet;
  metrics: McuMetrics;
  /** `[app] allowsubscribeany`: skip the same-call check of `requestoffer`. */
  allowSubscribeAny: boolean;
  /** The other signaling nodes (cluster): is a publisher they hold in the caller's call? */
  remoteCalls?: RemoteCallCheck;
  log: Logger;
  unshareScreenDelayMs?: number;
}

/**
 * The MCU flows carried in `message` data (fact sheet 1.9): publishing (`offer`, `update-sdp`),
 * candidates, subscribing (`requestoffer`, `answer`, `sendoffer`), `selectStream`,
 * `unshareScreen`, renegotiation offers from the SFU; permission checks (1.13) and releasing a
 * session's MCU objects when it leaves the room or the call, loses permissions or closes.
 *
 * MCU processing applies to sessions that were told about the MCU (feature `mcu` in their
 * hello); everybody else keeps plain peer-to-peer messages, like a server without `[mcu]`.
 */
export class McuHandler implements SessionListener {
  readonly #deps: McuHandlerDeps;
  readonly #states = new Map<ClientSession, McuSessionState>();
  /** Sessions whose hello announced `mcu`. */
  readonly #mcuSessions = new WeakSet<ClientSession>();

  constructor(deps: McuHandlerDeps) {
    this.#deps = deps;
    deps.hub.addListener(this);
    deps.router.onSendOffer((receiver, offer) => this.remoteSendOffer(receiver, offer));
    deps.events.addListener({ leftRoom: (session) => this.release(session, 'left the room'), changed: (session) => this.sessionChanged(session) });
    deps.sfu.on('connected', () => {
      deps.log.info('MCU connected; announcing mcu features');
      for (const feature of MCU_FEATURES) deps.features.add(feature);
    });
    deps.sfu.on('disconnected', () => {
      deps.log.warn('MCU disconnected; mcu features withdrawn');
      for (const feature of MCU_FEATURES) deps.features.remove(feature);
    });
    if (deps.sfu.connected) for (const feature of MCU_FEATURES) deps.features.add(feature);
  }

  sessionCreated(session: ClientSession): void {
    this.#noteFeatures(session);
  }

  sessionResumed(session: ClientSession): void {
    this.#noteFeatures(session);
  }

  sessionClosed(session: ClientSession): void {
    this.release(session, 'session closed');
  }

  /** Objects of `session` (tests, stats). */
  stateOf(session: ClientSession): McuSessionState | undefined {
    return this.#states.get(session);
  }

  /** Closes every MCU object of `session` (left the room or the call, closed). */
  release(session: ClientSession, why: string): void {
    const state = this.#states.get(session);
    if (!state) return;
    this.#states.delete(session);
    if (!state.empty) session.log.info({ why }, 'releasing MCU objects');
    void state.releaseAll();
  }

  /**
   * In-call flags or permissions of `session` changed: out of the call releases everything;
   * publishers the new permissions no longer cover are closed (1.13).
   */
  sessionChanged(session: ClientSession): void {
    const state = this.#states.get(session);
    if (!state) return;
    if (!(session.inCall & InCallFlag.InCall)) {
      this.release(session, 'left the call');
      return;
    }
    for (const publisher of state.publishers) {
      if (publisherStillAllowed(session, publisher.streamType, publisher.mediaTypes)) continue;
      session.log.info({ streamType: publisher.streamType }, 'no longer allowed to publish; closing publisher');
      void state.closePublisher(publisher);
    }
  }

  /**
   * `message` hook: true when the message was taken over (processed by the MCU or answered
   * with an error), false when it is to be delivered as usual.
   */
  message(sender: ClientSession, payload: MessageClientPayload, id: string | undefined): boolean {
    const recipient = payload.recipient;
    if (recipient.type !== 'session' && recipient.type !== 'room') return false;
    if (!this.#mcuSessions.has(sender)) return false;
    const classified = classifyMcuMessageData(payload.data);
    if (classified.kind === 'forward') return false;
    if (classified.kind === 'error') {
      this.#sendError(sender, id, classified.error);
      return true;
    }
    const data = classified.value;
    let sdpTypes = 0;
    if (data.type === 'offer' || data.type === 'answer') {
      try {
        sdpTypes = sdpMediaTypes(data.payload?.['sdp'] as string);
      } catch (err) {
        if (!(err instanceof SdpError)) throw err;
        this.#sendError(sender, id, new SignalingError('invalid_sdp', ALTERNATIVE_ERROR_MESSAGES.invalidSdpParse, { error: err.message }));
        return true;
      }
    }
    if (recipient.type === 'room') {
      // Validated like upstream, then delivered to the room; a sendoffer to a room goes nowhere.
      if (data.type !== 'sendoffer') return false;
      if (!isAllowedToSend(sender, data.roomType, data.type)) this.#notAllowed(sender, id, NOT_ALLOWED_MESSAGES.sendOffer);
      return true;
    }
    const target = recipient.sessionid;
    const failed = (err: unknown) => sender.log.error({ err }, 'MCU message failed unexpectedly');
    switch (data.type) {
      case 'requestoffer': {
        // Asynchronous, as upstream: waiting for a publisher must not hold up anything else.
        const started = this.#state(sender).tryStartOffer(() => this.#process(sender, target, data, sdpTypes, id));
        if (started === undefined) this.#tooMany(sender, id);
        else void started.catch(failed);
        return true;
      }
      case 'offer':
      case 'answer':
      case 'candidate':
      case 'endOfCandidates':
      case 'selectStream':
        // In order per session (upstream handles these on the client's own goroutine): the
        // candidates a browser sends right after its offer must reach the publisher it creates.
        // Queued, not awaited, so the session's other messages are not held up.
        {
          // Sized roughly by its SDP or candidate: MCU messages are a handful per call, not the hot path.
          const queued = this.#state(sender).queue.tryRun(() => this.#process(sender, target, data, sdpTypes, id), JSON.stringify(data).length);
          if (queued === undefined) {
            this.#tooMany(sender, id);
            return true;
          }
          void queued.catch(failed);
        }
        return true;
      case 'sendoffer':
        this.#sendOffer(sender, target, data, id);
        return true;
      case 'unshareScreen':
        if (target === sender.publicId) this.#scheduleUnshare(sender);
        return false;
      default:
        return false;
    }
  }

  #noteFeatures(session: ClientSession): void {
    if (this.#deps.features.has(ServerFeature.Mcu)) this.#mcuSessions.add(session);
    else this.#mcuSessions.delete(session);
  }

  #state(session: ClientSession): McuSessionState {
    let state = this.#states.get(session);
    if (!state) {
      state = new McuSessionState();
      this.#states.set(session, state);
    }
    return state;
  }

  async #process(sender: ClientSession, target: string, data: McuMessageData, sdpTypes: number, id: string | undefined): Promise<void> {
    switch (data.type) {
      case 'requestoffer': {
        if (target === sender.publicId) return;
        if (!this.#deps.allowSubscribeAny && !(await inSameCall(sender, target, this.#deps.sessions, this.#deps.remoteCalls))) {
          sender.log.info({ target }, 'not in the same call; not requesting offer');
          this.#notAllowed(sender, id, NOT_ALLOWED_MESSAGES.requestOffer);
          return;
        }
        const fail = (error: SignalingError): void => this.#sendError(sender, id, error);
        if (this.#publisherUnreachable(sender, target)) return fail(signalingError('client_not_found'));
        const subscriber = await this.#subscriberFor(sender, target, data.roomType);
        if (!subscriber) return fail(signalingError('client_not_found'));
        await this.#requestOffer(sender, target, subscriber, data, fail);
        return;
      }
      case 'offer': {
        let mediaTypes: number;
        try {
          mediaTypes = offerMediaTypes(sender, data.roomType, sdpTypes);
        } catch (err) {
          if (!(err instanceof McuPermissionError)) throw err;
          sender.log.info({ roomType: data.roomType, permission: err.permission }, 'not allowed to publish');
          return this.#notAllowed(sender, id, NOT_ALLOWED_MESSAGES.publish);
        }
        const publisher = await this.#publisherFor(sender, data, mediaTypes);
        if (!publisher) return this.#sendError(sender, id, signalingError('client_not_found'));
        this.#deps.metrics.messagesTotal.inc({ type: data.type });
        let answer: SfuJsep;
        try {
          answer = await publisher.offer(data.payload as SfuJsep);
        } catch (err) {
          return this.#processingFailed(sender, id, data, err);
        }
        const userId = sender.effectiveUserId;
        this.#sendMcu(sender, { type: 'session', sessionid: sender.publicId, ...(userId ? { userid: userId } : {}) }, {
          to: sender.publicId,
          from: sender.publicId,
          type: 'answer',
          roomType: data.roomType,
          payload: answer,
          sid: publisher.sid,
        });
        return;
      }
      case 'selectStream': {
        if (target === sender.publicId) return;
        const subscriber = this.#states.get(sender)?.subscriber(target, data.roomType);
        if (!subscriber) return this.#sendError(sender, id, signalingError('client_not_found'));
        this.#deps.metrics.messagesTotal.inc({ type: data.type });
        try {
          const selection = streamSelection(data.payload);
          if (selection) await subscriber.selectStream(selection);
        } catch (err) {
          this.#processingFailed(sender, id, data, err);
        }
        return;
      }
      default:
        await this.#clientMessage(sender, target, data, id);
    }
  }

  /** `candidate`, `answer`, `endOfCandidates`: to one's own publisher or to a subscriber. */
  async #clientMessage(sender: ClientSession, target: string, data: McuMessageData, id: string | undefined): Promise<void> {
    let client: SfuPublisher | SfuSubscriber | undefined;
    if (target === sender.publicId) {
      if (!isAllowedToSend(sender, data.roomType, data.type)) {
        sender.log.info({ roomType: data.roomType }, 'not allowed to send candidate');
        return this.#notAllowed(sender, id, NOT_ALLOWED_MESSAGES.sendCandidate);
      }
      client = this.#states.get(sender)?.publisher(data.roomType);
    } else {
      client = this.#states.get(sender)?.subscriber(target, data.roomType);
    }
    if (!client) return this.#sendError(sender, id, signalingError('client_not_found'));
    this.#deps.metrics.messagesTotal.inc({ type: data.type });
    if (data.type === 'endOfCandidates') return;
    try {
      if (data.sid && data.sid !== client.sid) throw new Error(`${data.type} sid ${data.sid} does not match ${client.sid}`);
      if (data.type === 'candidate') await client.trickle(data.payload?.['candidate']);
      else if (data.type === 'answer' && 'answer' in client) await client.answer(data.payload as SfuJsep);
      else throw new Error(`unsupported message type ${data.type}`);
    } catch (err) {
      this.#processingFailed(sender, id, data, err);
    }
  }

  /**
   * `sendoffer` (1.9 flow 5): the publisher asks for a subscriber of the recipient. A recipient
   * on another node (or nowhere) gets the request through the bus; its node does the rest.
   */
  #sendOffer(sender: ClientSession, target: string, data: McuMessageData, id: string | undefined): void {
    let receiver = this.#deps.sessions.byPublicId(target);
    // Oneself, or a session of another backend: dropped as upstream.
    if (receiver === sender || (receiver && receiver.backend.id !== sender.backend.id)) return;
    if (!isAllowedToSend(sender, data.roomType, data.type)) {
      sender.log.info({ roomType: data.roomType }, 'not allowed to send offer');
      return this.#notAllowed(sender, id, NOT_ALLOWED_MESSAGES.sendOffer);
    }
    if (!receiver) {
      this.#deps.router.sendOfferTo(target, { ...(id === undefined ? {} : { messageid: id }), sessionid: sender.publicId, data: { ...data } });
      return;
    }
    if (receiver instanceof VirtualSession) receiver = receiver.owner;
    this.#subscribeAndOffer(receiver, sender.publicId, data, (error) => this.#sendError(sender, id, error));
  }

  /**
   * `sendoffer` of a publisher on another node (bus, fact sheet 6.1): the same for `receiver`,
   * a session of this node; errors go back to the publisher through the bus with its request id.
   */
  remoteSendOffer(receiver: ClientSession, offer: SendOffer): void {
    const classified = classifyMcuMessageData(offer.data);
    if (classified.kind !== 'mcu' || offer.sessionid === receiver.publicId) {
      receiver.log.warn({ from: offer.sessionid }, 'dropping a malformed sendoffer from another node');
      return;
    }
    const publisherId = offer.sessionid;
    const messageId = offer.messageid;
    this.#subscribeAndOffer(receiver, publisherId, classified.value, (error) =>
      this.#deps.router.toSession(publisherId, { ...(messageId ? { id: messageId } : {}), type: 'error', error: { code: error.code, message: error.message } }),
    );
  }

  /** Subscribes `receiver` to `publisherId`'s stream and sends it the offer, in the background (the publisher may still be starting). */
  #subscribeAndOffer(receiver: ClientSession, publisherId: string, data: McuMessageData, fail: (error: SignalingError) => void): void {
    if (this.#publisherUnreachable(receiver, publisherId)) return fail(signalingError('client_not_found'));
    const started = this.#state(receiver).tryStartOffer(async () => {
      const subscriber = await this.#subscriberFor(receiver, publisherId, data.roomType);
      if (!subscriber) return fail(signalingError('client_not_found'));
      await this.#requestOffer(receiver, publisherId, subscriber, data, fail);
    });
    if (started === undefined) {
      this.#deps.metrics.queueRefusedTotal.inc();
      return fail(signalingError('too_many_requests'));
    }
    void started.catch((err: unknown) => receiver.log.error({ err }, 'sendoffer failed unexpectedly'));
  }

  /** Gets the SFU's offer for `subscriber` to `receiver`; `fail` tells the requester when it cannot. */
  async #requestOffer(receiver: ClientSession, publisherId: string, subscriber: SfuSubscriber, data: McuMessageData, fail: (error: SignalingError) => void): Promise<void> {
    this.#deps.metrics.messagesTotal.inc({ type: data.type });
    let offer: SfuJsep;
    try {
      offer = await subscriber.requestOffer(streamSelection(data.payload), data.sid);
    } catch (err) {
      receiver.log.warn({ err: (err as Error)?.message ?? String(err), type: data.type, roomType: data.roomType, publisher: publisherId }, 'MCU message failed');
      return fail(signalingError('processing_failed'));
    }
    this.#sendOfferTo(receiver, publisherId, data.roomType, subscriber, offer);
  }

  /**
   * `[mcu] type = janus` reaches only the publishers of this node's own sessions: upstream
   * waits the whole MCU timeout for a publisher held by another node, which never comes. Say
   * so at once (the error upstream sends after the wait) and tell the admin why.
   */
  #publisherUnreachable(subscriber: ClientSession, publisherId: string): boolean {
    if (!this.#deps.sfu.localPublishersOnly || this.#deps.sessions.byPublicId(publisherId)) return false;
    subscriber.log.warn(
      { publisher: publisherId },
      'publisher is not a session of this node: with [mcu] type = janus a node reaches only its own sessions\' publishers; media between sessions on different signaling nodes needs [mcu] type = proxy',
    );
    return true;
  }

  #sendOfferTo(receiver: ClientSession, publisherId: string, roomType: string, subscriber: SfuSubscriber, offer: SfuJsep): void {
    this.#sendMcu(receiver, { type: 'session', sessionid: publisherId }, {
      to: receiver.publicId,
      from: publisherId,
      type: 'offer',
      roomType,
      payload: offer,
      sid: subscriber.sid,
    });
  }

  async #publisherFor(session: ClientSession, data: McuMessageData, mediaTypes: number): Promise<SfuPublisher | undefined> {
    const roomType = data.roomType;
    if (!isStreamType(roomType)) {
      session.log.info({ roomType }, 'unsupported stream type for publishing');
      return undefined;
    }
    try {
      const { publisher, created } = await this.#state(session).getOrCreatePublisher(roomType, async () => {
        const publisher = await this.#deps.sfu.newPublisher({
          publisherId: session.publicId,
          sid: data.sid ?? '',
          streamType: roomType,
          bitrate: this.#backendBitrate(session, roomType, data.bitrate ?? 0),
          mediaTypes,
          codecs: { audioCodec: data.audiocodec, videoCodec: data.videocodec, vp9Profile: data.vp9profile, h264Profile: data.h264profile },
          country: session.connection?.info.country,
        });
        publisher.on('candidate', (candidate) =>
          this.#sendMcu(session, { type: 'session', sessionid: session.publicId }, {
            to: session.publicId,
            from: session.publicId,
            type: 'candidate',
            roomType,
            payload: { candidate },
            sid: publisher.sid,
          }),
        );
        session.log.info({ streamType: roomType, bitrate: publisher.bitrate }, 'publishing');
        return publisher;
      });
      // update-sdp: a new offer on the same publisher updates what it carries.
      if (!created) publisher.mediaTypes = mediaTypes;
      return publisher;
    } catch (err) {
      session.log.warn({ err: (err as Error).message, streamType: roomType }, 'could not create MCU publisher');
      return undefined;
    }
  }

  async #subscriberFor(session: ClientSession, publisherId: string, roomType: string): Promise<SfuSubscriber | undefined> {
    if (!isStreamType(roomType)) {
      session.log.info({ roomType }, 'unsupported stream type for subscribing');
      return undefined;
    }
    try {
      return await this.#state(session).getOrCreateSubscriber(publisherId, roomType, async () => {
        const subscriber = await this.#deps.sfu.newSubscriber({ subscriberId: session.publicId, publisherId, streamType: roomType, country: session.connection?.info.country });
        subscriber.on('offer', (offer) => this.#sendOfferTo(session, publisherId, roomType, subscriber, offer));
        subscriber.on('candidate', (candidate) =>
          this.#sendMcu(session, { type: 'session', sessionid: publisherId }, {
            to: session.publicId,
            from: publisherId,
            type: 'candidate',
            roomType,
            payload: { candidate },
            sid: subscriber.sid,
          }),
        );
        session.log.info({ publisher: publisherId, streamType: roomType }, 'subscribing');
        return subscriber;
      });
    } catch (err) {
      session.log.warn({ err: (err as Error).message, publisher: publisherId, streamType: roomType }, 'could not create MCU subscriber');
      return undefined;
    }
  }

  /** Upstream: the client's bitrate, else the backend's cap; never above the backend's cap. */
  #backendBitrate(session: ClientSession, streamType: SfuStreamType, requested: number): number {
    const cap = streamType === 'screen' ? session.backend.maxScreenBitrate : session.backend.maxStreamBitrate;
    if (requested <= 0) return cap;
    return cap > 0 && requested > cap ? cap : requested;
  }

  #scheduleUnshare(session: ClientSession): void {
    const state = this.#states.get(session);
    if (!state) return;
    clearTimeout(state.unshareTimer);
    state.unshareTimer = setTimeout(() => {
      state.unshareTimer = undefined;
      if (session.closed || this.#states.get(session) !== state) return;
      const publisher = state.publisher('screen');
      if (!publisher) return;
      session.log.info('closing screen publisher (unshareScreen)');
      void state.closePublisher(publisher);
    }, this.#deps.unshareScreenDelayMs ?? UNSHARE_SCREEN_DELAY_MS);
    state.unshareTimer.unref();
  }

  #sendMcu(session: ClientSession, sender: Record<string, unknown>, data: Record<string, unknown>): void {
    if (data['sid'] === '') delete data['sid'];
    this.#deps.router.send(session, serverFrame(undefined, 'message', { sender, data }));
  }

  #processingFailed(session: ClientSession, id: string | undefined, data: McuMessageData, err: unknown): void {
    session.log.warn({ err: (err as Error)?.message ?? String(err), type: data.type, roomType: data.roomType }, 'MCU message failed');
    this.#sendError(session, id, signalingError('processing_failed'));
  }

  /** The session has too much waiting for the SFU: refused, not buffered. */
  #tooMany(session: ClientSession, id: string | undefined): void {
    this.#deps.metrics.queueRefusedTotal.inc();
    this.#sendError(session, id, signalingError('too_many_requests'));
  }

  #notAllowed(session: ClientSession, id: string | undefined, message: string): void {
    this.#sendError(session, id, new SignalingError('not_allowed', message));
  }

  #sendError(session: ClientSession, id: string | undefined, error: SignalingError): void {
    this.#deps.router.send(session, errorFrame(id, error));
  }
}
