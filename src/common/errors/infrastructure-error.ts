/**
 * Redis (or ioredis's cluster client) refusing a command without running it: a replica or a master in a
 * failover, a slot moving or not served, the cluster client between topologies. Nothing changed.
 */
const REDIS_REFUSAL = /^(READONLY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|MOVED|ASK)\b|Cluster isn't ready|Too many Cluster redirections|None of startup nodes is available|Failed to refresh slots cache/;

/** True for a refusal that means the command did not run (see REDIS_REFUSAL). */
export function isRedisRefusal(error: unknown): boolean {
  return error instanceof Error && REDIS_REFUSAL.test(error.message ?? '');
}

/**
 * Tells whether an error means "Redis or the database could not be reached" (→ 503 UNAVAILABLE)
 * rather than a bug (→ 500). ioredis reports a lost connection in several shapes, pg and sqlite in
 * others; they are all recognised here so that no caller has to.
 */
export function isInfrastructureError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const name = error.name;
  const message = error.message ?? '';
  const code = (error as { code?: unknown }).code;
  if (name === 'MaxRetriesPerRequestError' || name === 'AbortError' || isRedisRefusal(error)) return true;
  if (typeof code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', '57P01', '57P03', '08006', '08001', '08003', '53300', 'SQLITE_BUSY', 'SQLITE_IOERR', 'SQLITE_FULL', 'SQLITE_CANTOPEN'].includes(code)) return true;
  if (/Connection is closed|Stream isn't writeable|Command timed out|connect ECONNREFUSED|Connection terminated|the database system is (starting up|shutting down)|Client has encountered a connection error|timeout exceeded when trying to connect|LOADING Redis|database is locked/i.test(message)) return true;
  const driverError = (error as { driverError?: unknown }).driverError;
  return driverError !== undefined && driverError !== error && isInfrastructureError(driverError);
}
