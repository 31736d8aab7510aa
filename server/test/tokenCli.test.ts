// `./guise token` as a real child process: its token admits the named person
// to the room, and its link is ready to open.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { JoinTokens } from '../src/auth/joinTokens.ts';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const SECRET = 'cli-secret-cli-secret-cli-secret-cli';

function guiseToken(args: string[], env: Record<string, string>) {
  return promisify(execFile)('bash', ['guise', 'token', ...args], { cwd: repoRoot, env: { ...process.env, ...env } });
}

describe('./guise token', () => {
  it('prints a token for the room and name, and an invite link on PUBLIC_URL', async () => {
    const { stdout } = await guiseToken(['--room', 'standup', '--name', 'Ada', '--admin', '--ttl', '2h'], { GUISE_AUTH_SECRET: SECRET, PUBLIC_URL: 'https://meet.example/' });
    const [token, link] = stdout.trim().split('\n');
    expect(link).toBe(`https://meet.example/?room=standup&token=${token}&name=Ada`);
    const claims = await new JoinTokens(SECRET).verify(token!, 'standup');
    expect(claims).toMatchObject({ room: 'standup', name: 'Ada', grants: { canPublish: true, canSubscribe: true, roomAdmin: true } });
    expect(claims.exp - claims.nbf).toBe(7200);
  });

  it('refuses a missing secret or a bad room with a message and exit code 2', async () => {
    await expect(guiseToken(['--room', 'r', '--name', 'A'], { GUISE_AUTH_SECRET: '' })).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('GUISE_AUTH_SECRET is not set') });
    await expect(guiseToken(['--room', 'a b', '--name', 'A'], { GUISE_AUTH_SECRET: SECRET })).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('room must be') });
  });
});
