import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keepFetchOnOrigin } from '../src/ownOrigin.ts';

describe('keepFetchOnOrigin', () => {
  let server: http.Server;
  let origin: string;
  let hits: string[];
  beforeAll(async () => {
    hits = [];
    server = http.createServer((req, res) => { hits.push(req.url!); res.end('ok'); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('lets same-origin, relative and data: requests through, and refuses others without sending them', async () => {
    const scope = { fetch: globalThis.fetch };
    keepFetchOnOrigin(scope, origin);
    keepFetchOnOrigin(scope, origin); // a second call wraps nothing more
    expect(await (await scope.fetch(`${origin}/a`)).text()).toBe('ok');
    expect(await (await scope.fetch(new Request(`${origin}/b`))).text()).toBe('ok');
    expect(await (await scope.fetch('data:text/plain,hi')).text()).toBe('hi');
    // Another port on the same host is another origin.
    const otherPort = origin.replace(/:\d+$/, ':9');
    await expect(scope.fetch(`${otherPort}/c`)).rejects.toThrow(/refused a request outside/);
    await expect(scope.fetch('https://odml.pa.googleapis.com/v1/log', { method: 'POST' })).rejects.toThrow('odml.pa.googleapis.com');
    expect(hits).toEqual(['/a', '/b']);
  });
});
