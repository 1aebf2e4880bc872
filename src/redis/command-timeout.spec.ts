import { EventEmitter } from 'node:events';
import type Redis from 'ioredis';
import { Command } from 'ioredis';
import { enforceCommandTimeout } from './command-timeout';

/**
 * The watchdog's bookkeeping on a clock the test owns: which commands it fails, and when. Against a real
 * Redis (test/redis-command-timeout.e2e-spec.ts) "answered in time" depends on how busy the machine is;
 * here it is exact. The client is a stand-in that only records what is sent: no script runs.
 */
const TIMEOUT_MS = 150;

class RecordingClient extends EventEmitter {
  readonly sent: Command[] = [];
  sendCommand(command: Command): Promise<unknown> {
    this.sent.push(command);
    return command.promise;
  }
}

function outcomeOf(command: Command): { settled: 'answered' | 'failed' | 'waiting' } {
  const outcome = { settled: 'waiting' as 'answered' | 'failed' | 'waiting' };
  command.promise.then(
    () => (outcome.settled = 'answered'),
    () => (outcome.settled = 'failed'),
  );
  return outcome;
}

describe('enforceCommandTimeout', () => {
  let client: RecordingClient;
  let send: (command: Command) => Promise<unknown>;

  beforeEach(() => {
    jest.useFakeTimers();
    client = new RecordingClient();
    enforceCommandTimeout(client as unknown as Redis, TIMEOUT_MS);
    send = (command) => (client as unknown as Redis).sendCommand(command) as Promise<unknown>;
  });
  afterEach(() => jest.useRealTimers());

  /** Lets the promise callbacks of settled commands run (no timer is involved). */
  const flush = async () => {
    for (let tick = 0; tick < 10; tick += 1) await Promise.resolve();
  };

  it('fails only the commands still unanswered after the timeout, however many were answered before them', async () => {
    // Enough answered commands ahead of the waiting ones that the watchdog compacts its list on the way.
    const answered = Array.from({ length: 3_000 }, (_, index) => new Command('incr', [`k${index}`]));
    const sendAll = (commands: Command[]) =>
      commands.map((command) => {
        void send(command).catch(() => undefined);
        return outcomeOf(command);
      });
    const answeredOutcomes = sendAll(answered);

    // Halfway through the timeout Redis answers the first 3,000, and ten more commands go out.
    jest.advanceTimersByTime(TIMEOUT_MS / 2);
    answered.forEach((command, index) => command.resolve(index + 1));
    const late = Array.from({ length: 10 }, (_, index) => new Command('incr', [`late${index}`]));
    const lateOutcomes = sendAll(late);

    // The ten are timed from when they were sent: still waiting just before their own timeout ...
    jest.advanceTimersByTime(TIMEOUT_MS - 1);
    await flush();
    expect(answeredOutcomes.every((outcome) => outcome.settled === 'answered')).toBe(true);
    expect(lateOutcomes.map((outcome) => outcome.settled)).toEqual(Array(10).fill('waiting'));

    // ... and failed within one check interval after it; the answered stay answered.
    jest.advanceTimersByTime(TIMEOUT_MS / 5 + 1);
    await flush();
    expect(answeredOutcomes.every((outcome) => outcome.settled === 'answered')).toBe(true);
    expect(lateOutcomes.map((outcome) => outcome.settled)).toEqual(Array(10).fill('failed'));
    await expect(late[0].promise).rejects.toThrow('Command timed out');
  });

  it('times each command from when it was sent, not from the first one waiting', async () => {
    const early = new Command('get', ['early']);
    void send(early).catch(() => undefined);
    const earlyOutcome = outcomeOf(early);
    jest.advanceTimersByTime(TIMEOUT_MS - 10);
    const later = new Command('get', ['later']);
    void send(later).catch(() => undefined);
    const laterOutcome = outcomeOf(later);

    jest.advanceTimersByTime(TIMEOUT_MS / 5 + 10);
    await flush();
    expect(earlyOutcome.settled).toBe('failed');
    expect(laterOutcome.settled).toBe('waiting');

    later.resolve('value');
    jest.advanceTimersByTime(TIMEOUT_MS * 2);
    await flush();
    expect(laterOutcome.settled).toBe('answered');
  });

  it('stops checking once nothing is waiting, and starts again with the next command', async () => {
    const first = new Command('get', ['a']);
    void send(first);
    first.resolve('a');
    jest.advanceTimersByTime(TIMEOUT_MS);
    expect(jest.getTimerCount()).toBe(0);

    const second = new Command('get', ['b']);
    void send(second).catch(() => undefined);
    const outcome = outcomeOf(second);
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(TIMEOUT_MS + TIMEOUT_MS / 5);
    await flush();
    expect(outcome.settled).toBe('failed');
  });

  it('fails every command in flight when the connection closes, as sent and unanswered', async () => {
    const inFlight = [new Command('incr', ['x']), new Command('incr', ['y'])];
    const outcomes = inFlight.map((command) => {
      void send(command).catch(() => undefined);
      return outcomeOf(command);
    });
    client.emit('close');
    await flush();
    expect(outcomes.map((outcome) => outcome.settled)).toEqual(['failed', 'failed']);
    await expect(inFlight[0].promise).rejects.toThrow('Connection is closed.');
  });
});
