import type Redis from 'ioredis';
import type { Writable } from 'node:stream';

type SendCommand = Redis['sendCommand'];

/**
 * Makes a client send the commands of one event-loop turn in one socket write. ioredis writes every
 * command to its socket at once, which is one system call per command; under a purchase stampede that
 * write was the largest single cost in the service's profile. Here the connection's socket is corked
 * when the turn's first command is sent and uncorked in the same turn's check phase (`setImmediate`),
 * after every request that arrived in that turn has sent its command; Node then writes them together.
 *
 * Nothing else changes: replies, timeouts, errors and reconnects are ioredis's own (a command sent while
 * the connection is down is refused as before and never reaches the socket; a socket that closes with
 * corked commands fails them as it would have failed them anyway). Unlike ioredis's auto-pipelining,
 * commands stay plain commands, so the offline-queue-off recovery after a Redis restart is unaffected.
 */
export function coalesceWrites(client: Redis): void {
  let corked: Writable | undefined;
  const release = () => {
    const stream = corked;
    corked = undefined;
    stream?.uncork();
  };
  const send: SendCommand = client.sendCommand.bind(client);
  client.sendCommand = ((command, stream) => {
    // A command sent to another stream (a pipeline's) is that stream's business.
    if (stream === undefined && corked === undefined && client.stream?.writable) {
      corked = client.stream;
      corked.cork();
      setImmediate(release);
    }
    return send(command, stream);
  }) as SendCommand;
}
