/* eslint-disable @typescript-eslint/no-explicit-any -- free-form JSON messages */
import type { ClientMessage } from '@talk-signaling/protocol';
import { federatedActor } from '../session/federated-actor';
import { cloudUrl, translateIncoming, translateOutgoing, type FederationIds } from './translate';

const ids: FederationIds = {
  localSessionId: 'local-sid',
  remoteSessionId: 'remote-sid',
  roomId: 'local-room',
  remoteRoomId: 'remote-room',
  localCloudUrl: 'https://a.example/nc/ocs/v2.php/apps/spreed/api/v1/signaling/backend',
  remoteCloudUrl: 'https://b.example/',
};

describe('federation id translation', () => {
  it('derives cloud ids like upstream', () => {
    expect(cloudUrl(ids.localCloudUrl)).toBe('a.example/nc');
    expect(cloudUrl(ids.remoteCloudUrl)).toBe('b.example');
  });

  it('replaces the remote session and room ids in what the remote sends', () => {
    const join: any = { type: 'event', event: { target: 'room', type: 'join', join: [{ sessionid: 'remote-sid', federated: true }, { sessionid: 'x' }] } };
    expect(translateIncoming(join, ids)).toEqual({ selfLeft: false });
    expect(join.event.join).toEqual([{ sessionid: 'local-sid', federated: true }, { sessionid: 'x' }]);

    const leave: any = { type: 'event', event: { target: 'room', type: 'leave', leave: ['x', 'remote-sid'] } };
    expect(translateIncoming(leave, ids)).toEqual({ selfLeft: true });
    expect(leave.event.leave).toEqual(['x', 'local-sid']);

    const room: any = { type: 'room', room: { roomid: 'remote-room' } };
    translateIncoming(room, ids);
    expect(room.room.roomid).toBe('local-room');

    const update: any = {
      type: 'event',
      event: {
        target: 'participants',
        type: 'update',
        update: {
          roomid: 'remote-room',
          users: [
            { sessionId: 'remote-sid', actorType: 'federated_users', actorId: 'alice@a.example/nc' },
            { sessionId: 'y', actorType: 'users', actorId: 'bob' },
          ],
        },
      },
    };
    translateIncoming(update, ids);
    expect(update.event.update).toEqual({
      roomid: 'local-room',
      users: [
        { sessionId: 'local-sid', actorType: 'users', actorId: 'alice' },
        { sessionId: 'y', actorType: 'federated_users', actorId: 'bob@b.example' },
      ],
    });

    const transient: any = { type: 'transient', transient: { type: 'set', key: 'sd:remote-sid', value: 1 } };
    translateIncoming(transient, ids);
    expect(transient.transient.key).toBe('sd:local-sid');

    const already: any = { type: 'error', error: { code: 'already_joined', message: 'm', details: { room: { roomid: 'remote-room' } } } };
    translateIncoming(already, ids);
    expect(already.error.details.room.roomid).toBe('local-room');
  });

  it('translates chat comments of relayed room messages', () => {
    const msg: any = {
      type: 'event',
      event: {
        target: 'room',
        type: 'message',
        message: {
          roomid: 'remote-room',
          data: {
            type: 'chat',
            chat: {
              comment: {
                token: 'remote-room',
                actorType: 'users',
                actorId: 'bob',
                messageParameters: { 'mention-user1': { type: 'user', id: 'bob' }, 'mention-call': { type: 'call', id: 'remote-room' } },
              },
            },
          },
        },
      },
    };
    translateIncoming(msg, ids);
    expect(msg.event.message.roomid).toBe('local-room');
    expect(msg.event.message.data.chat.comment).toEqual({
      token: 'local-room',
      actorType: 'federated_users',
      actorId: 'bob@b.example',
      messageParameters: {
        'mention-user1': { type: 'user', id: 'bob', 'mention-id': 'bob', server: 'https://b.example' },
        'mention-call': { type: 'call', id: 'local-room' },
      },
    });
  });

  it('gives messages to oneself and own session data the remote id on the way out', () => {
    const toSelf: ClientMessage = { type: 'message', message: { recipient: { type: 'session', sessionid: 'local-sid' }, data: { d: 1 } } };
    const out = translateOutgoing(toSelf, ids);
    expect(out).toEqual({ type: 'message', message: { recipient: { type: 'session', sessionid: 'remote-sid' }, data: { d: 1 } } });
    expect(toSelf.message.recipient).toEqual({ type: 'session', sessionid: 'local-sid' });
    const sd: ClientMessage = { type: 'transient', transient: { type: 'set', key: 'sd:local-sid', value: 2 } };
    expect(translateOutgoing(sd, ids)).toEqual({ type: 'transient', transient: { type: 'set', key: 'sd:remote-sid', value: 2 } });
    const other: ClientMessage = { type: 'message', message: { recipient: { type: 'room' }, data: 1 } };
    expect(translateOutgoing(other, ids)).toBe(other);
  });

  it('takes the actor of federated sessions from the token userdata', () => {
    expect(federatedActor({ clientType: 'federation', user: { actorId: 'a@x', actorType: 'federated_users' } })).toEqual({
      actorid: 'a@x',
      actortype: 'federated_users',
    });
    expect(federatedActor({ clientType: 'client', user: { actorId: 'a@x', actorType: 'federated_users' } })).toEqual({});
    expect(federatedActor({ clientType: 'federation', user: { actorId: 'a@x' } })).toEqual({});
  });
});
