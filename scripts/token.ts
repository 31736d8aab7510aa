// ./guise token --room R --name N [--admin] [--ttl 6h]
// Prints a join token signed with GUISE_AUTH_SECRET, and a ready invite link.
import { parseArgs } from 'node:util';
import { RoomId } from '@guise/shared';
import { parseTtl } from '@guise/server/auth/joinClaims';
import { JoinTokens } from '@guise/server/auth/joinTokens';
import { inviteUrl } from '@guise/server/signaling/Connection';
import { normaliseDisplayName } from '@guise/server/rooms/displayName';

const usage = 'usage: ./guise token --room ROOM --name NAME [--admin] [--ttl 6h]  (GUISE_AUTH_SECRET must be set, as for the server)';

function fail(message: string): never {
  console.error(`guise token: ${message}\n${usage}`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      room: { type: 'string' },
      name: { type: 'string' },
      admin: { type: 'boolean', default: false },
      ttl: { type: 'string', default: '6h' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }));
} catch (err) {
  fail((err as Error).message);
}
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const secret = process.env.GUISE_AUTH_SECRET;
if (!secret) fail('GUISE_AUTH_SECRET is not set');
const room = RoomId.safeParse(values.room ?? '');
if (!room.success) fail(values.room ? room.error.issues[0]!.message : '--room is required');
if (values.name === undefined) fail('--name is required');
const name = normaliseDisplayName(values.name);
if (!name.ok) fail(name.reason);
const ttlSeconds = parseTtl(values.ttl);
if (ttlSeconds === undefined) fail(`--ttl ${values.ttl}: give a duration such as 90s, 15m, 6h or 2d (at most 30d)`);

let tokens: JoinTokens;
try {
  tokens = new JoinTokens(secret);
} catch (err) {
  fail((err as Error).message);
}
const { token, expiresAt } = await tokens.sign({
  room: room.data,
  name: name.name,
  grants: { canPublish: true, canSubscribe: true, roomAdmin: values.admin },
  ttlSeconds,
});
const base = (process.env.PUBLIC_URL ?? `http://localhost:${process.env.PORT ?? 3000}`).replace(/\/+$/, '');
console.log(token);
console.log(`${inviteUrl(base, room.data, token)}&${new URLSearchParams({ name: name.name }).toString()}`);
console.error(`for ${name.name} in room ${room.data}${values.admin ? ' (room admin)' : ''}, valid until ${new Date(expiresAt).toISOString()}`);
