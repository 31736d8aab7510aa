// Wires the pieces: media workers → rooms → signaling → HTTP.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Server as SocketServer } from 'socket.io';
import type { Config } from './config.ts';
import { createHttpServer } from './http.ts';
import type { Logger } from './log.ts';
import { WorkerPool } from './media/WorkerPool.ts';
import { RoomRegistry } from './rooms/RoomRegistry.ts';
import { Connection } from './signaling/Connection.ts';

export interface App {
  url: string;
  rooms: RoomRegistry;
  /** The media workers (tests kill one to check recovery). */
  pool: WorkerPool;
  close(): Promise<void>;
}

export async function startApp(config: Config, log: Logger): Promise<App> {
  const pool = await WorkerPool.create({ size: config.workers, log });
  const rooms = new RoomRegistry(pool, config.rtc, log);
  const httpServer = createHttpServer(config, () => ({ ok: true, workers: pool.pids.length }), log.child({ part: 'http' }));
  // Signaling messages are small; a big one is an attack or a bug.
  const io = new SocketServer(httpServer, { maxHttpBufferSize: 64 * 1024, serveClient: false });
  io.on('connection', (socket) => new Connection(socket, rooms, log.child({ sid: socket.id })));

  // once() rejects on 'error', so a taken port fails the start.
  await once(httpServer.listen(config.port, config.host), 'listening');
  const { port } = httpServer.address() as AddressInfo;
  const url = `${config.tls ? 'https' : 'http'}://localhost:${port}`;
  log.info({ url, workers: pool.pids }, 'guise server listening');

  return {
    url,
    rooms,
    pool,
    async close() {
      rooms.closeAll();
      io.close();
      httpServer.closeAllConnections();
      await once(httpServer.close(), 'close');
      pool.close();
    },
  };
}
