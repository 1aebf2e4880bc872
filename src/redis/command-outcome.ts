import type Redis from 'ioredis';
import { isInfrastructureError } from '../common/errors/infrastructure-error';
import { OutcomeUnknownError } from '../common/errors/outcome-unknown.error';
import { runScript, ScriptArg } from './lua-scripts';

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

/** True when Redis never saw the command: nothing it would have changed was changed. */
export function wasNeverSent(error: unknown): boolean {
  return error instanceof Error && (error as Error & { [NEVER_SENT]?: true })[NEVER_SENT] === true;
}

/**
 * Throws, as a refusal that sent nothing, when the client is not connected: a caller about to write the
 * database before Redis checks first, so that "Redis is down" is answered before anything changed.
 */
export function assertConnected(client: Pick<Redis, 'status'>): void {
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
export async function runScriptAtMostOnce<T>(client: Redis, name: string, keys: string[], args: ScriptArg[], probeMs: number, what: string): Promise<T> {
  try {
    return await runScript<T>(client, name, keys, args);
  } catch (error) {
    if (!isAmbiguousRedisFailure(error)) throw error;
    return resendUntilAnswered<T>(client, name, keys, args, probeMs, what, error);
  }
}

async function resendUntilAnswered<T>(client: Redis, name: string, keys: string[], args: ScriptArg[], probeMs: number, what: string, firstError: unknown): Promise<T> {
  const deadline = Date.now() + probeMs;
  let lastError = firstError;
  while (Date.now() < deadline) {
    try {
      return await runScript<T>(client, name, keys, args);
    } catch (error) {
      if (!isInfrastructureError(error)) throw error;
      lastError = error;
      // A connection that is down refuses at once; give it a moment to come back.
      if (wasNeverSent(error)) await new Promise((resolve) => setTimeout(resolve, RESEND_PAUSE_MS));
    }
  }
  throw new OutcomeUnknownError(what, lastError);
}
