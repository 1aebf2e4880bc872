import type Redis from 'ioredis';
import type { Socket } from 'node:net';

/** Counts the socket writes (system calls' worth) a client makes from here on. */
export function countWrites(client: Redis): { writes: () => number } {
  const socket = client.stream as Socket & { _write: Socket['_write']; _writev?: Socket['_writev'] };
  let writes = 0;
  const write = socket._write.bind(socket);
  const writev = socket._writev?.bind(socket);
  socket._write = (...args) => {
    writes += 1;
    return write(...args);
  };
  if (writev) {
    socket._writev = (...args) => {
      writes += 1;
      return writev(...args);
    };
  }
  return { writes: () => writes };
}
