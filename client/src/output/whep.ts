// A WHEP player: one RTCPeerConnection that only receives, an offer POSTed to
// the endpoint, the answer applied. Nothing trickles: the server is ICE-lite
// and its answer carries every candidate.

export class WhepError extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

export interface WhepSession {
  stream: MediaStream;
  /** Resolves, with why, once media can no longer arrive (the server ended the session, the network went). */
  ended: Promise<string>;
  close(): void;
}

export async function whepConnect(endpoint: string, opts: { token?: string | undefined; audio: boolean }): Promise<WhepSession> {
  const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
  const stream = new MediaStream();
  pc.addEventListener('track', (e) => stream.addTrack(e.track));
  pc.addTransceiver('video', { direction: 'recvonly' });
  if (opts.audio) pc.addTransceiver('audio', { direction: 'recvonly' });
  let resource: string | null = null;
  const close = () => {
    pc.close();
    // Best effort: the server also ends a session whose transport goes quiet.
    if (resource) void fetch(resource, { method: 'DELETE', ...auth(opts.token) }).catch(() => {});
    resource = null;
  };
  try {
    await pc.setLocalDescription(await pc.createOffer());
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/sdp', ...auth(opts.token).headers },
      body: pc.localDescription!.sdp,
    });
    if (res.status !== 201) throw new WhepError(res.status, (await res.text()).trim() || res.statusText);
    const location = res.headers.get('Location');
    resource = location ? new URL(location, endpoint).href : null;
    await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
  } catch (err) {
    close();
    throw err;
  }
  const ended = new Promise<string>((resolve) => {
    const check = () => {
      const state = pc.connectionState;
      if (state === 'failed' || state === 'closed' || state === 'disconnected') resolve(`connection ${state}`);
    };
    pc.addEventListener('connectionstatechange', check);
    // The server closing the session sends DTLS close_notify: the DTLS transport closes at once.
    const dtls = pc.getTransceivers()[0]?.receiver.transport;
    dtls?.addEventListener('statechange', () => { if (dtls.state === 'closed' || dtls.state === 'failed') resolve(`DTLS ${dtls.state}`); });
  });
  return { stream, ended, close };
}

function auth(token: string | undefined): { headers: Record<string, string> } {
  return { headers: token ? { Authorization: `Bearer ${token}` } : {} };
}
