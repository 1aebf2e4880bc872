import type Redis from 'ioredis';
import type { Writable } from 'node:stream';

type SendCommand = Redis['sendCommand'];

/**
 * Commands per write at the most. Holding a whole turn's commands (up to one per open connection) until
 * the turn ends leaves Redis idle while this thread works through the turn, and this thread idle while
 * Redis works through the batch; writing every few commands lets the two overlap, at an eighth of the
 * system calls of a write per command. Under wrk, 8 gave the purchase route about a tenth more
 * throughput than a write per turn, 16 about as much and 4 less (bench/README.md, 2026-11-29).
 */
export const MAX_COMMANDS_PER_WRITE = 8;

/**
 * Makes a client send the commands of one event-loop turn in a few socket writes: one per
 * `MAX_COMMANDS_PER_WRITE` commands, and one for the rest when the turn ends. ioredis writes every command
 * to its socket at once, which is one system call per command; under a purchase stampede that write was
 * the largest single cost in the service's profile. Here the connection's socket is corked when the
 * turn's first command is sent and uncorked once it holds `MAX_COMMANDS_PER_WRITE` commands or in the same
 * turn's check phase (`setImmediate`), after every request that arrived in that turn has sent its
 * command; Node then writes what it holds together.
 *
 * Nothing else changes: replies, timeouts, errors and reconnects are ioredis's own (a command sent while
 * the connection is down is refused as before and never reaches the socket; a socket that closes with
 * corked commands fails them as it would have failed them anyway). Unlike ioredis's auto-pipelining,
 * commands stay plain commands, so the offline-queue-off recovery after a Redis restart is unaffected.
 */
export function coalesceWrites(client: Redis): void {
  let corked: Writable | undefined;
  let queued = 0;
  /** Whether the end of this turn is scheduled already (one `setImmediate` per turn, not per write). */
  let turnEndScheduled = false;
  const release = () => {
    const stream = corked;
    corked = undefined;
    stream?.uncork();
  };
  const endTurn = () => {
    turnEndScheduled = false;
    release();
  };
  const send: SendCommand = client.sendCommand.bind(client);
  client.sendCommand = ((command, stream) => {
    // A command sent to another stream (a pipeline's) is that stream's business.
    const coalesced = stream === undefined && client.stream?.writable === true;
    if (coalesced && corked === undefined) {
      corked = client.stream;
      corked.cork();
      queued = 0;
      if (!turnEndScheduled) {
        turnEndScheduled = true;
        setImmediate(endTurn);
      }
    }
    const result = send(command, stream);
    if (coalesced && corked !== undefined && ++queued >= MAX_COMMANDS_PER_WRITE) release();
    return result;
  }) as SendCommand;
}
