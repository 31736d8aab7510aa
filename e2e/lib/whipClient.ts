// Debian's simple-whip-client (Meetecho's GStreamer WHIP client), run as a
// new user would: `whip-client -u URL -t TOKEN -A AUDIO -V VIDEO`, publishing
// GStreamer's test pattern and a tone.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir } from './paths.ts';

const stubSource = path.join(path.dirname(fileURLToPath(import.meta.url)), 'whip/igd-stub.c');

/** A folder with the libgupnp-igd stand-in (see whip/igd-stub.c), built once. */
function stubDir(): string {
  const dir = path.join(cacheDir, 'whip-igd-stub');
  const lib = path.join(dir, 'libgupnp-igd-1.0.so.4');
  if (!fs.existsSync(lib) || fs.statSync(lib).mtimeMs < fs.statSync(stubSource).mtimeMs) {
    fs.mkdirSync(dir, { recursive: true });
    execFileSync('gcc', ['-shared', '-fPIC', '-Wl,-soname,libgupnp-igd-1.0.so.4', '-o', lib, stubSource]);
  }
  return dir;
}

export interface WhipClient { process: ChildProcess; logs: string[]; stop(): Promise<void> }

/** What the client sends: H.264 (constrained baseline, as OBS) or VP8 video, and an opus tone. */
export type WhipVideoCodec = 'h264' | 'vp8';

const VIDEO: Record<WhipVideoCodec, string> = {
  h264: 'videotestsrc is-live=true pattern=ball ! video/x-raw,width=640,height=480,framerate=30/1 ! videoconvert ! queue ! '
    + 'x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 bitrate=1000 ! video/x-h264,profile=constrained-baseline ! '
    + 'rtph264pay pt=96 ssrc=2 config-interval=-1 aggregate-mode=zero-latency ! queue ! application/x-rtp,media=video,encoding-name=H264,payload=96',
  vp8: 'videotestsrc is-live=true pattern=ball ! video/x-raw,width=640,height=480,framerate=30/1 ! videoconvert ! queue ! '
    + 'vp8enc deadline=1 ! rtpvp8pay pt=96 ssrc=2 ! queue ! application/x-rtp,media=video,encoding-name=VP8,payload=96',
};
const AUDIO = 'audiotestsrc is-live=true wave=sine freq=440 volume=0.5 ! audioconvert ! audioresample ! queue ! opusenc ! '
  + 'rtpopuspay pt=100 ssrc=1 ! queue ! application/x-rtp,media=audio,encoding-name=OPUS,payload=100';

export function startWhipClient(url: string, opts: { token?: string; video?: WhipVideoCodec } = {}): WhipClient {
  const args = ['-u', url, '-n', '-o', '-l', '4', '-A', AUDIO, '-V', VIDEO[opts.video ?? 'h264'], ...(opts.token ? ['-t', opts.token] : [])];
  const child = spawn('whip-client', args, {
    env: { ...process.env, LD_LIBRARY_PATH: [stubDir(), process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const keep = (d: Buffer) => { logs.push(d.toString()); if (logs.length > 500) logs.shift(); };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return {
    process: child,
    logs,
    /** Ctrl-C: the client sends DELETE to its resource, then exits. */
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
