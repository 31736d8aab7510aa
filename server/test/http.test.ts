// The HTTP edge against the real server process: no request for a static file,
// however malformed, may end the process and with it every call.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { joinWithMedia, type ServerProcess, startServerProcess, TestClient } from './helpers.ts';

const APP_JS = 'x'.repeat(1000);
const INDEX_HTML = '<!doctype html><title>Guise</title>';

describe('static files from the real server process', () => {
  let dist: string;
  let server: ServerProcess;
  beforeAll(async () => {
    dist = fs.mkdtempSync(path.join(os.tmpdir(), 'guise-dist-'));
    fs.writeFileSync(path.join(dist, 'index.html'), INDEX_HTML);
    fs.mkdirSync(path.join(dist, 'assets'));
    fs.writeFileSync(path.join(dist, 'assets', 'app.js'), APP_JS);
    // Reading /proc/self/mem at offset 0 fails with EIO: a file that stats fine and then can't be read.
    if (process.platform === 'linux') fs.symlinkSync('/proc/self/mem', path.join(dist, 'assets', 'unreadable.js'));
    server = await startServerProcess({ CLIENT_DIST: dist });
  });
  afterAll(async () => {
    await server?.stop();
    fs.rmSync(dist, { recursive: true, force: true });
  });

  /** A GET that, when the server doesn't answer, fails with what the server printed. */
  function get(url: string, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(server.url + url, { headers }).catch((err: Error) => {
      throw new Error(`GET ${url} ${JSON.stringify(headers)} got no answer (${err.message}); the server printed:\n${server.output()}`);
    });
  }

  /** Fails the test with the server's own output if the process has gone. */
  function expectServerUp() {
    expect({ exitCode: server.child.exitCode, signal: server.child.signalCode }, server.output()).toEqual({ exitCode: null, signal: null });
  }

  it('answers malformed Range headers with the whole file, and a call goes on', async () => {
    const ranges = [
      'bytes=500-100', // start after end: sirv handed it to fs.createReadStream, which threw
      'bytes=0-18446744073709551615', // end past 2^53
      'bytes=-100', // a suffix range
      'bytes=abc-def',
      'bytes=5-4, 1-2',
      'bytes=2000-', // starts past the end of the file
      'pages=1-2',
    ];
    for (const range of ranges) {
      for (const [url, body] of [['/assets/app.js', APP_JS], ['/index.html', INDEX_HTML], ['/some/route', INDEX_HTML]] as const) {
        const res = await get(url, { Range: range });
        expect({ range, url, status: res.status, body: await res.text() }).toEqual({ range, url, status: 200, body });
      }
    }
    expectServerUp();
    await expectCallWorks('after-range');
  });

  it.runIf(process.platform === 'linux')('refuses a symlink to an unreadable file outside the folder, and a call goes on', async () => {
    // It used to be followed, and the read failed after the headers went out.
    expect((await get('/assets/unreadable.js')).status).toBe(404);
    expectServerUp();
    expect((await get('/assets/app.js')).status).toBe(200);
    await expectCallWorks('after-unreadable');
  });

  /** Two peers join one room; the second consumes the first's producer. */
  async function expectCallWorks(room: string) {
    expect((await get('/healthz')).status).toBe(200);
    const alice = await TestClient.connect(server.url);
    const bob = await TestClient.connect(server.url);
    try {
      const a = await joinWithMedia(alice, room, 'Alice', 4242);
      const b = await joinWithMedia(bob, room, 'Bob');
      expect(b.joined.producers.map((p) => p.producerId)).toEqual([a.producerId]);
      const consumed = await bob.request('consume', { transportId: b.recv.id, producerId: a.producerId, rtpCapabilities: b.joined.rtpCapabilities });
      await bob.request('resumeConsumer', { consumerId: consumed.consumerId });
      expect(consumed).toMatchObject({ producerId: a.producerId, peerId: a.joined.peerId, kind: 'audio' });
    } finally {
      alice.close();
      bob.close();
    }
    expectServerUp();
  }
});
