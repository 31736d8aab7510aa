import { describe, expect, it } from 'vitest';
import { failedMessage, roomClosedMessage, unreachableMessage } from '../src/call/messages.ts';
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
});
