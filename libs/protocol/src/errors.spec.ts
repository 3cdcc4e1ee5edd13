import { ERROR_MESSAGES, invalidFormat, isKnownErrorCode, SignalingError, signalingError } from './errors';

describe('SignalingError', () => {
  it('builds catalogue errors with upstream texts', () => {
    const error = signalingError('hello_expected');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('SignalingError');
    expect(error.code).toBe('hello_expected');
    expect(error.message).toBe('Expected Hello request.');
    expect(error.toPayload()).toEqual({ code: 'hello_expected', message: 'Expected Hello request.' });
    expect('details' in error.toPayload()).toBe(false);
  });

  it('includes details only when given', () => {
    const error = signalingError('already_joined', { room: { roomid: 'abc' } });
    expect(error.toPayload()).toEqual({
      code: 'already_joined',
      message: 'Already joined this room.',
      details: { room: { roomid: 'abc' } },
    });
    expect(new SignalingError('x', 'y', null).toPayload()).toEqual({ code: 'x', message: 'y', details: null });
  });

  it('keeps the reason off the wire', () => {
    const error = invalidFormat('hello.auth.url: required');
    expect(error.reason).toBe('hello.auth.url: required');
    expect(error.toPayload()).toEqual({ code: 'invalid_format', message: 'Invalid data format.' });
    expect(JSON.stringify(error.toPayload())).not.toContain('hello.auth');
  });

  it('has the catalogue of fact sheet 1.14 and section 9', () => {
    expect(ERROR_MESSAGES).toMatchObject({
      invalid_format: 'Invalid data format.',
      invalid_hello_version: 'The hello version is not supported.',
      invalid_client_type: 'The client type is not supported.',
      invalid_backend: 'The backend URL is not supported.',
      auth_failed: 'The user could not be authenticated.',
      invalid_token: 'The passed token is invalid.',
      token_not_valid_yet: 'The token is not valid yet.',
      token_expired: 'The token is expired.',
      too_many_requests: 'Too many requests.',
      no_such_session: 'The session to resume does not exist.',
      session_limit_exceeded: 'Too many sessions connected for this backend.',
      room_join_failed: 'Could not join the room.',
      already_joined: 'Already joined this room.',
      not_in_room: 'No room joined yet.',
      client_not_found: 'No MCU client found to send message to.',
      processing_failed: 'Processing of the message failed, please check server logs.',
      no_sdp: 'Payload does not contain a SDP.',
      invalid_sdp: 'Payload does not contain a valid SDP.',
      ignored: 'Unsupported message type.',
      duplicate_client: 'Client already registered.',
      federation_unsupported: 'The target server does not support federation.',
    });
    expect(isKnownErrorCode('federation_error')).toBe(true);
    expect(isKnownErrorCode('no_such_room')).toBe(false);
    expect(isKnownErrorCode('toString')).toBe(false);
  });

  it('round-trips payloads', () => {
    const error = SignalingError.fromPayload({ code: 'no_such_room', message: 'Room not found' });
    expect(error.toPayload()).toEqual({ code: 'no_such_room', message: 'Room not found' });
  });
});
