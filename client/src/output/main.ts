// The output page: one participant's video, full-bleed, for OBS's Browser
// Source or any screen. It only receives (WHEP through the server), so it
// asks for no camera, no microphone and no permission; it comes back by
// itself after the participant leaves and rejoins, or the server restarts.
import { parseOutputParams, retryDelayMs, whepEndpoint } from './outputParams.ts';
import { whepConnect, WhepError, type WhepSession } from './whep.ts';
import './output.css';

const video = document.querySelector<HTMLVideoElement>('[data-testid="output-video"]')!;
const status = document.querySelector<HTMLElement>('[data-testid="output-status"]')!;
const parsed = parseOutputParams(location.search);

function show(state: 'waiting' | 'live' | 'invalid', text: string): void {
  document.body.dataset.state = state;
  status.textContent = text;
}

async function play(audio: boolean): Promise<void> {
  video.muted = !audio;
  try {
    await video.play();
  } catch {
    // A browser that refuses sound without a click still shows the picture.
    video.muted = true;
    await video.play().catch(() => {});
  }
}

async function run(): Promise<never> {
  if (!parsed.ok) {
    show('invalid', parsed.problem);
    return new Promise<never>(() => {});
  }
  const { room, peer, token, fit, bg, audio } = parsed.params;
  document.body.classList.add(`fit-${fit}`, `bg-${bg}`);
  const endpoint = whepEndpoint(location.origin, room, peer);
  let failures = 0;
  for (;;) {
    let session: WhepSession | undefined;
    try {
      session = await whepConnect(endpoint, { token, audio });
      video.srcObject = session.stream;
      await play(audio);
      failures = 0;
      show('live', '');
      const why = await session.ended;
      show('waiting', `Reconnecting to ${peer} (${why})…`);
    } catch (err) {
      const message = err instanceof WhepError && err.status === 404 ? `Waiting for ${peer} in room ${room}…` : `Waiting for ${peer}: ${(err as Error).message}`;
      show('waiting', message);
      // Refusals a retry cannot fix still retry, slowly: a host may fix the token's room or grants.
      failures++;
    } finally {
      session?.close();
    }
    video.srcObject = null;
    await new Promise((r) => setTimeout(r, retryDelayMs(Math.min(failures, 4))));
  }
}

void run();
