/**
 * Typed reading of the scenario settings. k6 hands scripts their environment as `__ENV`; these helpers
 * take it as a parameter so they stay plain functions. A bad value throws with the variable's name, which
 * k6 prints before any load is generated.
 */
export type Env = Record<string, string | undefined>;

function raw(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

export function envString(env: Env, name: string, fallback: string): string {
  return raw(env, name) ?? fallback;
}

export function envInt(env: Env, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  const parsed = Number(value.replace(/_/g, ''));
  if (!Number.isInteger(parsed) || parsed < min || parsed > max) throw new Error(`${name} must be an integer from ${min} to ${max} (got "${value}")`);
  return parsed;
}

export function envNumber(env: Env, name: string, fallback: number, min = 0, max = Number.MAX_VALUE): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < min || parsed > max) throw new Error(`${name} must be a number from ${min} to ${max} (got "${value}")`);
  return parsed;
}

/** A ratio from 0 to 1 (e.g. the share of buyers who click twice). */
export function envRatio(env: Env, name: string, fallback: number): number {
  return envNumber(env, name, fallback, 0, 1);
}

export function envBool(env: Env, name: string, fallback: boolean): boolean {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (['true', '1', 'yes'].includes(value.toLowerCase())) return true;
  if (['false', '0', 'no'].includes(value.toLowerCase())) return false;
  throw new Error(`${name} must be true or false (got "${value}")`);
}

export function envChoice<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) throw new Error(`${name} must be one of ${allowed.join(', ')} (got "${value}")`);
  return value as T;
}

/** A k6 duration (`90s`, `5m`, `1h30m`) in seconds; bare numbers are seconds. */
export function envDurationSeconds(env: Env, name: string, fallbackSeconds: number): number {
  const value = raw(env, name);
  if (value === undefined) return fallbackSeconds;
  const seconds = parseDurationSeconds(value);
  if (seconds === undefined) throw new Error(`${name} must be a duration such as 90s, 5m or 1h30m (got "${value}")`);
  return seconds;
}

export function parseDurationSeconds(text: string): number | undefined {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const pattern = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
  let total = 0;
  let consumed = 0;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    if (match.index !== consumed) return undefined;
    consumed += match[0].length;
    const amount = Number(match[1]);
    total += match[2] === 'h' ? amount * 3600 : match[2] === 'm' ? amount * 60 : match[2] === 's' ? amount : amount / 1000;
  }
  return consumed === text.length && consumed > 0 ? total : undefined;
}

