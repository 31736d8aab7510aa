import { describe, expect, it } from 'vitest';
import { failedMessage, hostMutedMessage, joinRefusal, roomClosedMessage, unreachableMessage } from '../src/call/messages.ts';
import { SignalingError } from '../src/call/signaling.ts';

describe('call messages', () => {
  it('explains a closed room and asks for a rejoin', () => {
    expect(roomClosedMessage('media_worker_died')).toBe('The room closed (its media server stopped). Rejoin to continue.');
    expect(roomClosedMessage('server_shutdown')).toMatch(/^The room closed \(the server is shutting down\)/);
    expect(roomClosedMessage('something_new')).toMatch(/^The room closed \(something_new\)/);
  });

  it('names the server it cannot reach', () => {
    expect(unreachableMessage('https://guise.example')).toBe("Can't reach the Guise server at https://guise.example. Retrying…");
  });

  it('phrases failed steps', () => {
    expect(failedMessage('join room "r"', new SignalingError('bad_request', 'room is full'))).toBe('Couldn\'t join room "r": room is full');
    expect(failedMessage('mute', 'x')).toBe("Couldn't mute: x");
  });

  it('turns a refused join into a lobby message the person can act on, and leaves other failures to the call view', () => {
    expect(joinRefusal(new SignalingError('unauthorized', 'the token has expired')))
      .toBe('This room needs a valid invite link (the token has expired). Ask the host for a new link and open it.');
    expect(joinRefusal(new SignalingError('name_taken', 'someone in this room is already called "Ada"; pick another name')))
      .toBe('That name is taken: someone in this room is already called "Ada"; pick another name.');
    expect(joinRefusal(new SignalingError('forbidden', 'this token is for "Ada"; join with that name'))).toMatch(/join with that name/);
    expect(joinRefusal(new SignalingError('room_locked', 'locked'))).toMatch(/^The host has locked this room/);
    expect(joinRefusal(new SignalingError('rate_limited', 'slow down'))).toMatch(/^Too many attempts/);
    expect(joinRefusal(new SignalingError('limit_reached', 'room is full (16 peers)'))).toBeUndefined();
    expect(joinRefusal(new SignalingError('timeout', 'no answer'))).toBeUndefined();
    expect(joinRefusal(new Error('boom'))).toBeUndefined();
  });

  it('tells a person the host muted them and that they may unmute', () => {
    expect(hostMutedMessage('audio')).toBe('The host muted your microphone. You can unmute it yourself.');
    expect(hostMutedMessage('video')).toMatch(/turned off your camera/);
  });
});
