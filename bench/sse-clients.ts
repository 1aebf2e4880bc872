import { connect, type Socket } from 'node:net';

/**
 * A child of `npm run bench:sse` holding some of the idle event streams: every process, the harness
 * included, may hold only as many sockets as its open-file limit. Told `{ port, path, count }`, it opens
 * that many streams and answers `{ opened }`; told `{ report: true }`, it answers with the moment
 * (epoch ms, sub-millisecond) each stream saw `sold_out`, and closes them.
 */

/** Streams being opened at once: the listen backlog of the service is 511. */
const OPENING_AT_ONCE = 200;
const now = () => performance.timeOrigin + performance.now();

const sockets: Socket[] = [];
const soldOutAt: number[] = [];

function openStream(port: number, path: string): Promise<void> {
  return new Promise((resolveOpen, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let opened = false;
    let toldSoldOut = false;
    socket.on('connect', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`));
    socket.on('data', (chunk: Buffer) => {
      if (!opened) {
        opened = true;
        if (!chunk.toString('latin1', 0, 16).startsWith('HTTP/1.1 200')) {
          reject(new Error(`a stream was refused: ${chunk.toString('utf8', 0, 300)}`));
          return;
        }
        sockets.push(socket);
        resolveOpen();
      }
      if (!toldSoldOut && chunk.includes('event: sold_out')) {
        toldSoldOut = true;
        soldOutAt.push(now());
      }
    });
    socket.on('error', (error) => (opened ? undefined : reject(error)));
  });
}

process.on('message', (message: { port?: number; path?: string; count?: number; report?: boolean }) => {
  if (message.report) {
    process.send?.({ soldOutAt, streams: sockets.length });
    for (const socket of sockets) socket.destroy();
    process.disconnect();
    return;
  }
  void (async () => {
    try {
      const count = message.count ?? 0;
      for (let start = 0; start < count; start += OPENING_AT_ONCE) {
        await Promise.all(Array.from({ length: Math.min(OPENING_AT_ONCE, count - start) }, () => openStream(message.port as number, message.path as string)));
      }
      process.send?.({ opened: sockets.length });
    } catch (error) {
      process.send?.({ error: error instanceof Error ? error.message : String(error) });
    }
  })();
});
