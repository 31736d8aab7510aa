// Node has no getUserMedia: a minimal stand-in for a captured camera or mic
// track. Everything else the call tests use is real (the Guise server, its
// mediasoup worker, socket.io); the Device runs mediasoup-client's own
// FakeHandler because Node has no RTCPeerConnection.

export class FakeTrack {
  enabled = true;
  readyState: 'live' | 'ended' = 'live';
  stopped = false;
  private static next = 0;
  readonly id = `track-${FakeTrack.next++}`;
  constructor(readonly kind: 'audio' | 'video') {}
  stop() { this.stopped = true; this.readyState = 'ended'; }
  addEventListener() {}
  removeEventListener() {}
  getSettings() { return {}; }
  asTrack() { return this as unknown as MediaStreamTrack; }
}
