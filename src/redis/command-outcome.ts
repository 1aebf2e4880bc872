import { isInfrastructureError, isRedisRefusal } from '../common/errors/infrastructure-error';
import { OutcomeUnknownError } from '../common/errors/outcome-unknown.error';
import { runScript, ScriptCall } from './lua-scripts';
import type { RedisClient } from './redis-topology';

/**
 * What a failed Redis command tells about its effect. A command refused before it was written to the
 * socket (the connection was down) changed nothing; one that was written and then went unanswered (a
 * timeout, a connection lost mid-flight) may have run, or may still run once Redis reads it.
 */
const NEVER_SENT = Symbol('sellout.neverSent');

/** Marks an error as a refusal of a command that never reached Redis (see `command-timeout.ts`). */
export function markNeverSent(error: unknown): void {
  if (error instanceof Error) (error as Error & { [NEVER_SENT]?: true })[NEVER_SENT] = true;
}

/**
 * True when Redis never ran the command: it was never sent, or Redis refused it unrun (a redirection, a
 * replica, a failover in progress). Nothing it would have changed was changed.
 */
export function wasNeverSent(error: unknown): boolean {
  return error instanceof Error && ((error as Error & { [NEVER_SENT]?: true })[NEVER_SENT] === true || isRedisRefusal(error));
}

/**
 * Throws, as a refusal that sent nothing, when the client is not connected: a caller about to write the
 * database before Redis checks first, so that "Redis is down" is answered before anything changed.
 */
export function assertConnected(client: Pick<RedisClient, 'status'>): void {
  if (client.status === 'ready') return;
  const error = new Error("Stream isn't writeable: Redis is not connected");
  markNeverSent(error);
  throw error;
}

/** True for a failure after the command was sent: it may have taken effect. */
export function isAmbiguousRedisFailure(error: unknown): boolean {
  return isInfrastructureError(error) && !wasNeverSent(error);
}

const RESEND_PAUSE_MS = 50;

/**
 * Runs a script that is idempotent by the ids in its arguments (an order id, a payment attempt id): a
 * second run of the same call replays the first one's outcome instead of acting again. When the first
 * send goes unanswered, the same call is sent again — on a live connection Redis runs it after the first,
 * so its answer is the first one's outcome — until `probeMs` has passed; then the outcome is unknown.
 * A failure before anything was sent is rethrown as it is: nothing changed.
 */
export async function runScriptAtMostOnce<T>(client: RedisClient, ...[name, keys, args, probeMs, what]: [...ScriptCall, probeMs: number, what: string]): Promise<T> {
  const call = [name, keys, args] as ScriptCall;
  try {
    return await runScript<T>(client, ...call);
  } catch (error) {
    if (!isAmbiguousRedisFailure(error)) throw error;
    return resendUntilAnswered<T>(client, call, probeMs, what, error);
  }
}

async function resendUntilAnswered<T>(client: RedisClient, call: ScriptCall, probeMs: number, what: string, firstError: unknown): Promise<T> {
  const deadline = Date.now() + probeMs;
  let lastError = firstError;
  while (Date.now() < deadline) {
    const sentAt = Date.now();
    try {
      return await runScript<T>(client, ...call);
    } catch (error) {
      if (!isInfrastructureError(error)) throw error;
      lastError = error;
      // A connection that is down refuses at once; give it a moment to come back. So does a cluster
      // client whose node connection is being replaced ("Connection is closed.", which cannot be told
      // from a connection lost mid-flight): resending at once would spin on the event loop and starve the
      // very reconnection it waits for.
      if (wasNeverSent(error) || Date.now() - sentAt < RESEND_PAUSE_MS) await new Promise((resolve) => setTimeout(resolve, RESEND_PAUSE_MS));
    }
  }
  throw new OutcomeUnknownError(what, lastError);
}
