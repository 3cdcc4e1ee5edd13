import type { ClientMessage } from '@talk-signaling/protocol';

/* eslint-disable @typescript-eslint/no-explicit-any -- server messages of the remote server are free-form JSON */

/** Transient data keys owned by one session (feature `transient-sessiondata`). */
const SESSION_DATA_PREFIX = 'sd:';

/**
 * The ids the local client and the remote server each know (upstream `FederationClient`):
 * the local client only ever sees its own public id and the local room id.
 */
export interface FederationIds {
  /** Public id of the local session. */
  localSessionId: string;
  /** Public id of our session on the remote server; undefined until its hello answered. */
  remoteSessionId: string | undefined;
  /** Room id the local client joined (`room.roomid`). */
  roomId: string;
  /** Room id on the remote server (`room.federation.roomid`, default the local one). */
  remoteRoomId: string;
  /** Backend URL of the local session (its Nextcloud). */
  localCloudUrl: string;
  /** Nextcloud URL of the remote room (`room.federation.url`). */
  remoteCloudUrl: string;
}

/** `https://host/path/ocs/v2.php/...` → `https://host/path`; trailing `/` removed (upstream `getCloudUrlWithoutPath`). */
export function cloudUrlWithoutPath(url: string): string {
  const pos = url.indexOf('/ocs/v');
  return pos >= 0 ? url.slice(0, pos) : url.replace(/\/$/, '');
}

/** Cloud id suffix form of a Nextcloud URL: scheme dropped (upstream `getCloudUrl`). */
export function cloudUrl(url: string): string {
  return cloudUrlWithoutPath(url.replace(/^https?:\/\//, ''));
}

function isObject(value: unknown): value is Record<string, any> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Actors of the local cloud appear as `federated_users` on the remote side and vice versa:
 * `federated_users` ending in the local cloud become `users`, remote `users` become
 * `federated_users` with the remote cloud suffix (upstream `updateActor`).
 */
function updateActor(u: Record<string, any>, idKey: string, typeKey: string, localSuffix: string, remoteSuffix: string): boolean {
  const actorType = u[typeKey];
  const actorId = u[idKey];
  if (typeof actorType !== 'string' || typeof actorId !== 'string') return false;
  if (actorType === 'federated_users') {
    if (!actorId.endsWith(localSuffix)) return false;
    u[idKey] = actorId.slice(0, actorId.length - localSuffix.length);
    u[typeKey] = 'users';
    return true;
  }
  if (actorType === 'users') {
    u[idKey] = actorId + remoteSuffix;
    u[typeKey] = 'federated_users';
    return true;
  }
  return false;
}

/** Participant lists: actors translated, our remote session id replaced by the local one (once). */
function updateUsers(users: unknown, ids: FederationIds): void {
  if (!Array.isArray(users)) return;
  const localSuffix = `@${cloudUrl(ids.localCloudUrl)}`;
  const remoteSuffix = `@${cloudUrl(ids.remoteCloudUrl)}`;
  let checkSession = ids.remoteSessionId !== undefined;
  for (const u of users) {
    if (!isObject(u)) continue;
    updateActor(u, 'actorId', 'actorType', localSuffix, remoteSuffix);
    if (!checkSession) continue;
    const key = 'sessionId' in u ? 'sessionId' : 'sessionid';
    if (u[key] === ids.remoteSessionId) {
      u[key] = ids.localSessionId;
      checkSession = false;
    }
  }
}

/** A chat comment of a `chat-relay` room message (upstream `updateComment`); true when changed. */
function updateComment(comment: Record<string, any>, ids: FederationIds): boolean {
  const localSuffix = `@${cloudUrl(ids.localCloudUrl)}`;
  const remoteSuffix = `@${cloudUrl(ids.remoteCloudUrl)}`;
  let changed = updateActor(comment, 'actorId', 'actorType', localSuffix, remoteSuffix);
  if (updateActor(comment, 'lastEditActorId', 'lastEditActorType', localSuffix, remoteSuffix)) changed = true;
  if (ids.roomId !== ids.remoteRoomId && comment['token'] === ids.remoteRoomId) {
    comment['token'] = ids.roomId;
    changed = true;
  }
  const params = comment['messageParameters'];
  if (!isObject(params)) return changed;
  const localUrl = cloudUrlWithoutPath(ids.localCloudUrl);
  const remoteUrl = cloudUrlWithoutPath(ids.remoteCloudUrl);
  for (const [key, param] of Object.entries(params)) {
    if (!key.startsWith('mention-') || !isObject(param)) continue;
    if (param['type'] === 'user') {
      if (param['server'] === localUrl) {
        delete param['server'];
        changed = true;
      } else if (typeof param['mention-id'] !== 'string') {
        param['mention-id'] = param['id'];
        param['server'] = remoteUrl;
        changed = true;
      }
    } else if (param['type'] === 'call' && ids.roomId !== ids.remoteRoomId && param['id'] === ids.remoteRoomId) {
      param['id'] = ids.roomId;
      changed = true;
    }
  }
  return changed;
}

function mapRoomId(holder: unknown, ids: FederationIds, key = 'roomid'): void {
  if (isObject(holder) && ids.roomId !== ids.remoteRoomId && holder[key] === ids.remoteRoomId) holder[key] = ids.roomId;
}

function mapSession(holder: unknown, key: string, ids: FederationIds): void {
  if (isObject(holder) && ids.remoteSessionId !== undefined && holder[key] === ids.remoteSessionId) holder[key] = ids.localSessionId;
}

/** `recipient`/`sender` of type session addressed with our remote id. */
function mapAddress(address: unknown, ids: FederationIds): void {
  if (isObject(address) && address['type'] === 'session') mapSession(address, 'sessionid', ids);
}

/** What {@link translateIncoming} found beyond the rewriting. */
export interface IncomingInfo {
  /** Our remote session was announced as having left (`leave` event). */
  selfLeft: boolean;
}

/**
 * Rewrites one message of the remote server in place so that the local client sees its own
 * session id and its own room id (upstream `FederationClient.processMessage`):
 * control/message recipients and senders, `forceMute` peer ids, offer/answer `from`/`to`,
 * participants/flags/message events, `join`/`leave` entries, roomlist events, `already_joined`
 * details, `room` replies and the owner part of `sd:` transient keys. Chat comments get their
 * actors, room token and mentions translated as upstream does.
 */
export function translateIncoming(msg: Record<string, any>, ids: FederationIds): IncomingInfo {
  const info: IncomingInfo = { selfLeft: false };
  switch (msg['type']) {
    case 'control': {
      const control = msg['control'];
      if (!isObject(control)) break;
      mapAddress(control['recipient'], ids);
      mapAddress(control['sender'], ids);
      const data = control['data'];
      if (isObject(data) && data['action'] === 'forceMute') mapSession(data, 'peerId', ids);
      break;
    }
    case 'message': {
      const message = msg['message'];
      if (!isObject(message)) break;
      mapAddress(message['recipient'], ids);
      mapAddress(message['sender'], ids);
      const data = message['data'];
      if (isObject(data) && (data['type'] === 'offer' || data['type'] === 'answer')) {
        mapSession(data, 'from', ids);
        mapSession(data, 'to', ids);
      }
      break;
    }
    case 'event':
      translateEvent(msg['event'], ids, info);
      break;
    case 'error': {
      const error = msg['error'];
      if (isObject(error) && error['code'] === 'already_joined' && isObject(error['details'])) mapRoomId(error['details']['room'], ids);
      break;
    }
    case 'room':
      mapRoomId(msg['room'], ids);
      break;
    case 'transient': {
      const transient = msg['transient'];
      if (isObject(transient) && ids.remoteSessionId !== undefined && transient['key'] === SESSION_DATA_PREFIX + ids.remoteSessionId) {
        transient['key'] = SESSION_DATA_PREFIX + ids.localSessionId;
      }
      break;
    }
  }
  return info;
}

function translateEvent(event: unknown, ids: FederationIds, info: IncomingInfo): void {
  if (!isObject(event)) return;
  const type = event['type'];
  switch (event['target']) {
    case 'participants':
      if (type === 'update') {
        const update = event['update'];
        mapRoomId(update, ids);
        if (isObject(update)) {
          updateUsers(update['changed'], ids);
          updateUsers(update['users'], ids);
        }
      } else if (type === 'flags') {
        mapRoomId(event['flags'], ids);
        mapSession(event['flags'], 'sessionid', ids);
      } else if (type === 'message') mapRoomId(event['message'], ids);
      break;
    case 'room':
      if (type === 'join' && Array.isArray(event['join'])) {
        const entry = (event['join'] as unknown[]).find((e) => isObject(e) && e['sessionid'] === ids.remoteSessionId);
        if (ids.remoteSessionId !== undefined && isObject(entry)) entry['sessionid'] = ids.localSessionId;
      } else if (type === 'leave' && Array.isArray(event['leave'])) {
        const leave = event['leave'] as unknown[];
        const index = ids.remoteSessionId === undefined ? -1 : leave.indexOf(ids.remoteSessionId);
        if (index >= 0) {
          leave[index] = ids.localSessionId;
          info.selfLeft = true;
        }
      } else if (type === 'message') {
        const message = event['message'];
        mapRoomId(message, ids);
        const chat = isObject(message) && isObject(message['data']) && message['data']['type'] === 'chat' ? message['data']['chat'] : undefined;
        const comment = isObject(chat) ? chat['comment'] : undefined;
        if (isObject(comment)) {
          updateComment(comment, ids);
          if (isObject(comment['parent'])) updateComment(comment['parent'], ids);
        }
      }
      break;
    case 'roomlist':
      if (type === 'invite' || type === 'disinvite' || type === 'update') mapRoomId(event[type], ids);
      break;
  }
}

/**
 * What the local client sends, as it goes to the remote server (upstream `ProxyMessage`): a
 * session recipient naming the local session and an `sd:` key of the local session get the
 * remote id. Returns a copy when something changed; opaque data is never copied.
 */
export function translateOutgoing(message: ClientMessage, ids: FederationIds): ClientMessage {
  const remote = ids.remoteSessionId;
  if (remote === undefined) return message;
  if (message.type === 'message') {
    const recipient = message.message.recipient;
    if (recipient.type === 'session' && recipient.sessionid === ids.localSessionId) {
      return { ...message, message: { ...message.message, recipient: { ...recipient, sessionid: remote } } };
    }
  } else if (message.type === 'transient') {
    if (message.transient.key === SESSION_DATA_PREFIX + ids.localSessionId) {
      return { ...message, transient: { ...message.transient, key: SESSION_DATA_PREFIX + remote } };
    }
  }
  return message;
}
