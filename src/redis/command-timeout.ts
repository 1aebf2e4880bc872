import type Redis from 'ioredis';
import type { Cluster, Command } from 'ioredis';
import { markNeverSent } from './command-outcome';

type SendCommand = Redis['sendCommand'];
type ClusterSendCommand = Cluster['sendCommand'];

/**
 * Marks the error of a command the cluster client refuses while it is being handed over (the client
 * closed, or not ready, or the node's connection ended) as never sent: nothing changed, so the caller
 * answers `503 UNAVAILABLE` at once instead of resending to learn an outcome that cannot exist. Each
 * node's own connection does the same for what it refuses (`enforceCommandTimeout`).
 */
export function markClusterRefusals(cluster: Cluster): void {
  const send: ClusterSendCommand = cluster.sendCommand.bind(cluster);
  cluster.sendCommand = ((command, stream, node) => {
    const reject = command.reject;
    let handedOver = false;
    command.reject = (error: Error) => {
      if (!handedOver) markNeverSent(error);
      reject(error);
    };
    const result = send(command, stream, node);
    handedOver = true;
    return result;
  }) as ClusterSendCommand;
}

/**
 * Fails a command that Redis has not answered within `timeoutMs`, as ioredis's own `commandTimeout`
 * does ("Command timed out"; a late reply is then matched to it and dropped), but with one watchdog
 * timer per client instead of a timer armed and cleared for every command: under a purchase stampede,
 * arming and clearing a timer per command is work on every request that one shared timer avoids.
 *
 * Commands are kept in the order they were sent, and each one's place is emptied as soon as it is
 * settled: a command kept until the watchdog's next pass would keep its arguments and reply alive across
 * the garbage collector's young-generation passes, which would then copy, and promote to the old
 * generation, up to a check interval's worth of finished purchases each time. (A `Map` or `Set` of the
 * waiting commands, deleted from on settling, had the same effect in V8.) The watchdog stops at the first
 * command still within its time, so a command fails between `timeoutMs` and `timeoutMs` plus one check
 * interval (a fifth of the timeout, at most a second) after it was sent. It runs only while commands are
 * waiting.
 */
export function enforceCommandTimeout(client: Redis, timeoutMs: number): void {
  /** Commands sent, oldest first; `undefined` once settled. */
  const waiting: (Command | undefined)[] = [];
  const sentAt: number[] = [];
  /** The first place that may still hold a waiting command. */
  let head = 0;
  /** Places dropped from the front so far: the command sent n-th is at `waiting[n - dropped]`. */
  let dropped = 0;
  let watchdog: NodeJS.Timeout | undefined;

  const check = () => {
    const now = Date.now();
    while (head < waiting.length) {
      const command = waiting[head];
      if (command !== undefined && !command.isResolved) {
        if (now - sentAt[head] < timeoutMs) break;
        command.reject(new Error('Command timed out'));
      }
      waiting[head] = undefined;
      head++;
    }
    if (head === waiting.length) {
      dropped += waiting.length;
      waiting.length = 0;
      sentAt.length = 0;
      head = 0;
      clearInterval(watchdog);
      watchdog = undefined;
    } else if (head >= 1024 && head * 2 >= waiting.length) {
      waiting.splice(0, head);
      sentAt.splice(0, head);
      dropped += head;
      head = 0;
    }
  };

  // A connection that closes takes the answers of the commands written to it along: each of them may or
  // may not have run. They fail now, as sent-and-unanswered, rather than being sent again after the
  // reconnect (the client is built with `autoResendUnfulfilledCommands` off) or waiting out the timeout.
  client.on('close', () => {
    for (let index = head; index < waiting.length; index += 1) {
      const command = waiting[index];
      if (command && !command.isResolved) command.reject(new Error('Connection is closed.'));
    }
  });

  const send: SendCommand = client.sendCommand.bind(client);
  client.sendCommand = ((command, stream) => {
    const resolve = command.resolve;
    const reject = command.reject;
    let handedOver = false;
    /** The command's number in sending order, once it waits for its answer. */
    let sent = -1;
    const forget = () => {
      const index = sent - dropped;
      if (sent >= 0 && index >= head && waiting[index] === command) waiting[index] = undefined;
    };
    command.resolve = (value: unknown) => {
      forget();
      resolve(value);
    };
    // A command refused while it is being handed over (connection down, no offline queue) never reached
    // Redis: its error says so, so that callers can tell "nothing changed" from "may have changed".
    command.reject = (error: Error) => {
      if (!handedOver) markNeverSent(error);
      forget();
      reject(error);
    };
    const result = send(command, stream);
    handedOver = true;
    // A command refused (or answered) at once is already settled.
    if (!command.isResolved) {
      sent = dropped + waiting.length;
      waiting.push(command);
      sentAt.push(Date.now());
      if (watchdog === undefined) {
        watchdog = setInterval(check, Math.min(1000, Math.max(10, Math.floor(timeoutMs / 5))));
        watchdog.unref();
      }
    }
    return result;
  }) as SendCommand;
}
