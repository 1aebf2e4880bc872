import type Redis from 'ioredis';
import type { Command } from 'ioredis';
import { markNeverSent } from './command-outcome';

type SendCommand = Redis['sendCommand'];

/**
 * Fails a command that Redis has not answered within `timeoutMs`, as ioredis's own `commandTimeout`
 * does ("Command timed out"; a late reply is then matched to it and dropped), but with one watchdog
 * timer per client instead of a timer armed and cleared for every command. At thousands of purchases a
 * second those per-command timers were about 1% of the service's CPU.
 *
 * Commands are checked in the order they were sent, so the watchdog stops at the first one still within
 * its time. A command fails between `timeoutMs` and `timeoutMs` plus one check interval (a fifth of
 * the timeout, at most a second) after it was sent. The watchdog runs only while commands are waiting.
 */
export function enforceCommandTimeout(client: Redis, timeoutMs: number): void {
  const waiting: (Command | undefined)[] = [];
  const sentAt: number[] = [];
  let head = 0;
  let watchdog: NodeJS.Timeout | undefined;

  const check = () => {
    const now = Date.now();
    while (head < waiting.length) {
      const command = waiting[head] as Command;
      if (!command.isResolved) {
        if (now - sentAt[head] < timeoutMs) break;
        command.reject(new Error('Command timed out'));
      }
      waiting[head] = undefined;
      head++;
    }
    if (head === waiting.length) {
      waiting.length = 0;
      sentAt.length = 0;
      head = 0;
      clearInterval(watchdog);
      watchdog = undefined;
    } else if (head >= 1024 && head * 2 >= waiting.length) {
      waiting.splice(0, head);
      sentAt.splice(0, head);
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
    // A command refused while it is being handed over (connection down, no offline queue) never reached
    // Redis: its error says so, so that callers can tell "nothing changed" from "may have changed".
    const reject = command.reject;
    let handedOver = false;
    command.reject = (error: Error) => {
      if (!handedOver) markNeverSent(error);
      reject(error);
    };
    const result = send(command, stream);
    handedOver = true;
    // A command refused at once is already settled.
    if (!command.isResolved) {
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
