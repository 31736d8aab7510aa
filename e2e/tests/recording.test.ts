// Recording in a real call: Record on your own tile, a timer while it runs,
// Stop saves a WebM named with the room and the time. ffprobe reads it back
// with a video and an audio stream and the duration the page recorded for,
// and every decoded frame of the swapped video carries the disclosure mark.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { detectMark } from '@guise/face/disclosureMark';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appErrors, joinCall, launchParticipant, type Participant } from '../lib/browser.ts';
import { startServer, type RunningServer } from '../lib/server.ts';
import { waitForSwapping } from '../lib/swapState.ts';
import { fakeCamera } from '../lib/y4m.ts';

const run = promisify(execFile);

/** Every frame of a video file as 8-bit luma, decoded by ffmpeg. */
async function decodedLuma(file: string, width: number, height: number): Promise<Uint8Array[]> {
  const { stdout } = await run('ffmpeg', ['-v', 'error', '-i', file, '-an', '-fps_mode', 'passthrough', '-vf', 'format=gray', '-f', 'rawvideo', '-'], { encoding: 'buffer', maxBuffer: 1 << 30 });
  const size = width * height;
  return Array.from({ length: Math.floor(stdout.length / size) }, (_, i) => new Uint8Array(stdout.buffer, stdout.byteOffset + i * size, size));
}

describe('recording what the others see', () => {
  let server: RunningServer;
  let alice: Participant;
  const room = `rec-${Date.now().toString(36)}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'guise-rec-'));

  beforeAll(async () => {
    server = await startServer();
    alice = await launchParticipant(fakeCamera('glasses'));
  });
  afterAll(async () => {
    await alice?.close();
    await server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('saves a WebM of the swapped, marked video and the microphone, with the room and time in its name and the right duration', async () => {
    await joinCall(alice.page, server.url, room, 'Alice');
    await alice.page.click('[data-testid="toggle-faces"]');
    await alice.page.click('[data-identity-id="sample:astronaut"]');
    await waitForSwapping(alice.page, 'mesh', 'sample:astronaut');

    // The page's own clock from the Record click to the Stop click: what the file must last.
    await alice.page.evaluate(() => document.addEventListener('click', () => {
      (window as unknown as { __recStart: number }).__recStart = performance.now();
    }, { capture: true, once: true }));
    await alice.page.click('[data-testid="record"]');
    await alice.page.waitForFunction(() => document.querySelector('[data-testid="record-timer"]')?.textContent?.includes('0:04'));
    const download = alice.page.waitForEvent('download');
    await alice.page.click('[data-testid="record"]');
    const recordedMs = await alice.page.evaluate(() => performance.now() - (window as unknown as { __recStart: number }).__recStart);
    const file = await download;
    expect(file.suggestedFilename()).toMatch(new RegExp(`^guise-${room}-\\d{4}-\\d{2}-\\d{2}_\\d{2}-\\d{2}-\\d{2}\\.webm$`));
    const saved = path.join(dir, file.suggestedFilename());
    await file.saveAs(saved);
    await alice.page.waitForSelector('[data-testid="record-timer"]', { state: 'detached' });

    const { stdout } = await run('ffprobe', ['-v', 'error', '-show_streams', '-show_format', '-of', 'json', saved]);
    const probe = JSON.parse(stdout) as { streams: { codec_type: string; codec_name: string; width?: number; height?: number }[]; format: { duration: string; format_name: string } };
    console.log('recording:', probe.format, probe.streams.map((s) => `${s.codec_type} ${s.codec_name} ${s.width ?? ''}x${s.height ?? ''}`), `page recorded ${Math.round(recordedMs)} ms`);
    expect(probe.format.format_name).toMatch(/webm/);
    const video = probe.streams.find((s) => s.codec_type === 'video');
    expect(video).toMatchObject({ codec_name: 'vp8', width: 640, height: 480 });
    expect(probe.streams.find((s) => s.codec_type === 'audio')).toMatchObject({ codec_name: 'opus' });
    // The duration written into the file, within half a second of the page's clock.
    expect(Math.abs(Number(probe.format.duration) * 1000 - recordedMs)).toBeLessThan(500);

    const frames = await decodedLuma(saved, 640, 480);
    const marked = frames.filter((luma) => detectMark(luma, 640, 480).present).length;
    console.log(`mark in ${marked} of ${frames.length} recorded frames`);
    // As many frames as the swap produced on this machine's cores, each one marked.
    expect(frames.length).toBeGreaterThan(0);
    expect(marked).toBe(frames.length);
    expect(appErrors(alice)).toEqual([]);
  });
});
