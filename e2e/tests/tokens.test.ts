// Join tokens and host controls in real browsers, on a real server started
// with GUISE_AUTH_SECRET: the host joins with a token from `./guise token`,
// copies a guest invite, the guest joins through it, and joins without a valid
// token are refused in the lobby with a message. Then the host mutes, locks
// and removes, and the server enforces each.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appErrors, launchParticipant, remoteTile, waitForRemoteVideo, type Participant } from '../lib/browser.ts';
import { repoRoot } from '../lib/paths.ts';
import { startServer, type RunningServer } from '../lib/server.ts';
import { fakeCamera } from '../lib/y4m.ts';

const SECRET = 'e2e-tokens-secret-long-enough-for-hs256!';

/** A token and link made by the real CLI, as a host would. */
async function cliToken(args: string[], port: string): Promise<{ token: string; link: string }> {
  const { stdout } = await promisify(execFile)('bash', ['guise', 'token', ...args], {
    cwd: repoRoot, env: { ...process.env, GUISE_AUTH_SECRET: SECRET, PORT: port },
  });
  const [token, link] = stdout.trim().split('\n');
  return { token: token!, link: link! };
}

async function waitConnected(p: Participant): Promise<void> {
  await p.page.waitForSelector('[data-testid="call"]', { timeout: 60_000 });
  await p.page.waitForFunction(() => document.querySelector('[data-testid="connection-status"]')?.textContent?.trim() === 'connected');
}

/** The message the lobby shows for a refused join (or a removal). */
async function lobbyNotice(p: Participant): Promise<string> {
  const notice = p.page.locator('[data-testid="join-refused"]');
  await notice.waitFor({ state: 'visible', timeout: 60_000 });
  expect(await p.page.locator('[data-testid="join"]').count(), 'back in the lobby').toBe(1);
  return notice.innerText();
}

/** Clicks Copy invite and returns the link the host page shows (and copied). */
async function copyInvite(host: Participant, previous = ''): Promise<string> {
  await host.page.click('[data-testid="copy-invite"]');
  const field = host.page.locator('[data-testid="invite-link"]');
  await host.page.waitForFunction((prev) => {
    const v = document.querySelector<HTMLInputElement>('[data-testid="invite-link"]')?.value;
    return !!v && v !== prev;
  }, previous);
  return field.inputValue();
}

describe('join tokens and host controls in the browser (GUISE_AUTH_SECRET set)', () => {
  let server: RunningServer;
  let host: Participant;
  let guest: Participant;
  let outsider: Participant;
  const room = `tokens-${Date.now().toString(36)}`;
  let invite = '';

  beforeAll(async () => {
    server = await startServer({ GUISE_AUTH_SECRET: SECRET });
    // The outsider never gets in: no camera keeps the machine's two cores for the call.
    [host, guest, outsider] = await Promise.all([
      launchParticipant(fakeCamera('glasses')),
      launchParticipant(fakeCamera('talking')),
      launchParticipant(fakeCamera('glasses'), { denyMedia: true }),
    ]);
    await host.page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  });
  afterAll(async () => {
    await Promise.all([host?.close(), guest?.close(), outsider?.close()]);
    await server?.stop();
  });

  it('a host joins with a CLI admin token, copies a guest invite, and the guest joins through it; each sees the other', async () => {
    const port = new URL(server.url).port;
    const { link } = await cliToken(['--room', room, '--name', 'Host', '--admin', '--ttl', '1h'], port);
    expect(link).toMatch(new RegExp(`^${server.url}/\\?room=${room}&token=[\\w-]+\\.[\\w-]+\\.[\\w-]+&name=Host$`));
    await host.page.goto(`${link}&autojoin=1`, { waitUntil: 'commit' });
    await waitConnected(host);
    // The token was read, then taken out of the address bar.
    expect(host.page.url()).not.toContain('token=');

    invite = await copyInvite(host);
    expect(invite).toMatch(new RegExp(`/\\?room=${room}&token=[\\w-]+\\.[\\w-]+\\.[\\w-]+$`));
    expect(await host.page.evaluate(() => navigator.clipboard.readText())).toBe(invite);

    await guest.page.goto(`${invite}&name=Guest&autojoin=1`, { waitUntil: 'commit' });
    await waitConnected(guest);
    expect(guest.page.url()).not.toContain('token=');
    expect(await waitForRemoteVideo(host.page, 'Guest')).toEqual({ width: 640, height: 480 });
    expect(await waitForRemoteVideo(guest.page, 'Host')).toEqual({ width: 640, height: 480 });

    // Host controls and Copy invite only for the admin; a guest has neither, nor a bare room link that would not admit anyone.
    expect(await host.page.locator(`${remoteTile('Guest')} [data-testid="host-controls"]`).count()).toBe(1);
    expect(await guest.page.locator('[data-testid="host-controls"]').count()).toBe(0);
    expect(await guest.page.locator('[data-testid="copy-invite"]').count()).toBe(0);
    expect(await guest.page.locator('[data-testid="copy"]').count()).toBe(0);
  });

  it('refuses a join with no token, with a message in the lobby', async () => {
    await outsider.page.goto(`${server.url}/?room=${room}&name=Outsider&autojoin=1`, { waitUntil: 'commit' });
    expect(await lobbyNotice(outsider)).toMatch(/needs a valid invite link \(this server needs a join token/);
    expect(await host.page.locator(remoteTile('Outsider')).count()).toBe(0);
  });

  it('refuses a tampered token (the invite rewritten to grant roomAdmin, signature kept)', async () => {
    const token = new URL(invite).searchParams.get('token')!;
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as { grants: { roomAdmin: boolean } };
    claims.grants.roomAdmin = true;
    const tampered = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    await outsider.page.goto(`${server.url}/?room=${room}&token=${tampered}&name=Mallory&autojoin=1`, { waitUntil: 'commit' });
    expect(await lobbyNotice(outsider)).toMatch(/signature does not match this server/);
    expect(outsider.page.url()).not.toContain('token=');
    // With a token in hand the lobby offers no bare room link: it would let nobody in.
    expect(await outsider.page.locator('[data-testid="share-link"]').count()).toBe(0);
  });

  it('the host stops the guest\'s video: both sides show it, and the guest may turn it back on', async () => {
    await host.page.click(`${remoteTile('Guest')} [data-testid="host-mute-video"]`);
    await host.page.waitForSelector(`${remoteTile('Guest')} [data-testid="camera-off"]`);
    await guest.page.waitForSelector('[data-testid="tile"][data-local="true"] [data-testid="muted-by-host-camera"]');
    expect(await guest.page.locator('[data-testid="error"]').innerText()).toMatch(/host turned off your camera/);
    expect(await guest.page.locator('[data-testid="toggle-camera"]').innerText()).toBe('Start camera');
    // Unmuting is the guest's own choice (see README, "Host controls").
    await guest.page.click('[data-testid="toggle-camera"]');
    await host.page.waitForSelector(`${remoteTile('Guest')} [data-testid="camera-off"]`, { state: 'detached' });
    await guest.page.waitForSelector('[data-testid="muted-by-host-camera"]', { state: 'detached' });
  });

  it('the host locks the room: a fresh valid invite is refused with a message', async () => {
    await host.page.click('[data-testid="toggle-lock"]');
    await guest.page.waitForSelector('[data-testid="room-locked"]');
    await host.page.waitForSelector('[data-testid="room-locked"]');
    const fresh = await copyInvite(host, invite);
    await outsider.page.goto(`${fresh}&name=Late&autojoin=1`, { waitUntil: 'commit' });
    expect(await lobbyNotice(outsider)).toMatch(/host has locked this room/);
  });

  it('the host removes the guest: the guest lands in the lobby with a message, and the tile goes', async () => {
    await host.page.click(`${remoteTile('Guest')} [data-testid="host-remove"]`);
    expect(await lobbyNotice(guest)).toMatch(/host removed you from the call/);
    await host.page.waitForSelector(remoteTile('Guest'), { state: 'detached' });
  });

  it('left no page errors behind', () => {
    expect(appErrors(host)).toEqual([]);
    expect(appErrors(guest)).toEqual([]);
  });
});
